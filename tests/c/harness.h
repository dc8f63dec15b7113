/* A tiny test harness for the C and C++ suites: CHECK, a summary line, and emulator helpers. */
#ifndef MIXERLEAD_TEST_HARNESS_H
#define MIXERLEAD_TEST_HARNESS_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int harness_passed, harness_failed;

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (cond) {                                                                     \
      harness_passed++;                                                             \
    } else {                                                                        \
      harness_failed++;                                                             \
      fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond);             \
    }                                                                               \
  } while (0)

#define CHECK_STATUS(got, want)                                                     \
  do {                                                                              \
    int got_ = (int)(got), want_ = (int)(want);                                     \
    if (got_ == want_) {                                                            \
      harness_passed++;                                                             \
    } else {                                                                        \
      harness_failed++;                                                             \
      fprintf(stderr, "FAILED %s:%d: %s is %d, want %d (%s)\n", __FILE__, __LINE__, \
              #got, got_, want_, ml_last_error_message());                          \
    }                                                                               \
  } while (0)

/* Prints the closing line CI reads and returns the exit code. */
static int harness_summary(const char *suite) {
  printf("%s: %d passed, %d failed\n", suite, harness_passed, harness_failed);
  return harness_failed == 0 ? 0 : 1;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Slack for timing checks: valgrind runs everything far slower. */
static double time_scale(void) { return getenv("MIXERLEAD_UNDER_VALGRIND") ? 10.0 : 1.0; }

/* The emulator's root, e.g. http://127.0.0.1:1234 (from MIXERLEAD_TEST_ROOT). */
static const char *emulator_root(void) {
  const char *root = getenv("MIXERLEAD_TEST_ROOT");
  if (!root) {
    fprintf(stderr, "MIXERLEAD_TEST_ROOT is not set\n");
    exit(2);
  }
  return root;
}

/* The base URL of a scripted scenario. Scenario ids ("id=NAME") get this process's pid in front,
 * so that several runs against one emulator count apart. */
static void scenario_url(char *out, size_t size, const char *script) {
  if (!script || !*script) {
    snprintf(out, size, "%s/api", emulator_root());
    return;
  }
  const char *id = strstr(script, "id=");
  if (id) {
    snprintf(out, size, "%s/s/%.*sid=p%d_%s/api", emulator_root(), (int)(id - script), script, (int)getpid(), id + 3);
  } else {
    snprintf(out, size, "%s/s/%s/api", emulator_root(), script);
  }
}

/* One number from /_emulator/stats?id=ID, e.g. "client_disconnects"; -1 on failure. */
static long emulator_stat(const char *id, const char *field) {
  const char *root = emulator_root();
  const char *port_text = strrchr(root, ':');
  if (!port_text) return -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(port_text + 1));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  char request[256];
  int n = snprintf(request, sizeof request,
                   "GET /_emulator/stats?id=p%d_%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", (int)getpid(), id);
  if (write(fd, request, (size_t)n) != n) {
    close(fd);
    return -1;
  }
  static char response[1 << 16];
  size_t used = 0;
  ssize_t got;
  while (used < sizeof response - 1 && (got = read(fd, response + used, sizeof response - 1 - used)) > 0) used += (size_t)got;
  response[used] = 0;
  close(fd);
  char key[64];
  snprintf(key, sizeof key, "\"%s\":", field);
  const char *at = strstr(response, key);
  return at ? atol(at + strlen(key)) : -1;
}

/* Waits up to `within` seconds for the scenario to show `count` client disconnects. */
static long wait_disconnects(const char *id, long count, double within) {
  double deadline = now_seconds() + within * time_scale();
  long seen;
  while ((seen = emulator_stat(id, "client_disconnects")) < count && now_seconds() < deadline) usleep(10000);
  return seen;
}

#endif
