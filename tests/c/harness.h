/* A tiny test harness for the C and C++ suites: CHECK, a summary line, and emulator helpers. */
#ifndef MIXERLEAD_TEST_HARNESS_H
#define MIXERLEAD_TEST_HARNESS_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _WIN32
/* Windows (MinGW, e.g. cross-built by zig cc and run under wine): Winsock, a watchdog thread for
 * the time bound, and no fork (the fork tests are left out). */
#include <pthread.h>
#include <winsock2.h>
typedef SOCKET harness_socket;
#define harness_close_socket closesocket
#else
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>
typedef int harness_socket;
#define harness_close_socket close
#endif

static int harness_passed, harness_failed;

static void harness_unbound(void);

#ifdef _WIN32
/* The POSIX environment calls, through the C runtime (which updates the process environment). */
static inline int setenv(const char *name, const char *value, int overwrite) {
  if (!overwrite && getenv(name)) return 0;
  return _putenv_s(name, value);
}
static inline int unsetenv(const char *name) { return _putenv_s(name, ""); }
#endif

/* Checks run on several threads at once (and inside callbacks): count atomically. */
#define HARNESS_COUNT(counter) __atomic_fetch_add(&(counter), 1, __ATOMIC_RELAXED)

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (cond) {                                                                     \
      HARNESS_COUNT(harness_passed);                                                \
    } else {                                                                        \
      HARNESS_COUNT(harness_failed);                                                \
      fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond);             \
    }                                                                               \
  } while (0)

#define CHECK_STATUS(got, want)                                                     \
  do {                                                                              \
    int got_ = (int)(got), want_ = (int)(want);                                     \
    if (got_ == want_) {                                                            \
      HARNESS_COUNT(harness_passed);                                                \
    } else {                                                                        \
      HARNESS_COUNT(harness_failed);                                                \
      fprintf(stderr, "FAILED %s:%d: %s is %d, want %d (%s)\n", __FILE__, __LINE__, \
              #got, got_, want_, ml_last_error_message());                          \
    }                                                                               \
  } while (0)

#ifndef _WIN32
/* Forked children report their verdict through a pipe. Under valgrind the parent then ends the
 * child with SIGKILL (which valgrind cannot intercept): valgrind's leak check at the child's exit
 * would count what only the parent's threads held (their stacks and thread-locals; those
 * threads do not exist in the child) as leaks. Memory errors in the child are still reported. */
static int harness_child_pipe = -1;

/* fork() for a test: 0 in the child (its counts start at zero), the child's pid in the parent
 * (with *verdict to pass to harness_child_passed), -1 on failure. */
static inline pid_t harness_fork(int *verdict) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    harness_child_pipe = fds[1];
    harness_passed = harness_failed = 0;
    return 0;
  }
  close(fds[1]);
  *verdict = fds[0];
  if (pid < 0) close(fds[0]);
  return pid;
}

/* Ends a forked child with its verdict (it passed if it checked something and nothing failed). */
static inline void harness_child_exit(void) {
  char verdict = harness_failed == 0 && harness_passed > 0 ? 'P' : 'F';
  ssize_t ignored = write(harness_child_pipe, &verdict, 1);
  (void)ignored;
  if (getenv("MIXERLEAD_UNDER_VALGRIND")) {
    for (;;) pause(); /* until the parent's SIGKILL (or the alarm) */
  }
  _exit(verdict == 'P' ? 0 : 1);
}

/* In the parent: waits for the child; whether it reported a pass. */
static inline int harness_child_passed(pid_t pid, int verdict_fd) {
  char verdict = 0;
  ssize_t got = read(verdict_fd, &verdict, 1);
  close(verdict_fd);
  if (got == 1 && getenv("MIXERLEAD_UNDER_VALGRIND")) kill(pid, SIGKILL);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  if (got != 1) {
    fprintf(stderr, "the forked child ended without a verdict (%s %d)\n", WIFSIGNALED(wstatus) ? "signal" : "exit status",
            WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus));
  }
  return got == 1 && verdict == 'P';
}

#endif

/* Whether `name` contains one of the comma-separated substrings of `list`. */
static int harness_listed(const char *name, const char *list) {
  char copy[1024];
  snprintf(copy, sizeof copy, "%s", list);
  for (char *part = strtok(copy, ","); part; part = strtok(NULL, ","))
    if (strstr(name, part)) return 1;
  return 0;
}

/* Runs a test unless MIXERLEAD_TEST_ONLY names others, or MIXERLEAD_TEST_SKIP names it (each a
 * comma-separated list of substrings); a skipped test is reported as such. */
static int harness_selected(const char *name) {
  const char *only = getenv("MIXERLEAD_TEST_ONLY"), *skip = getenv("MIXERLEAD_TEST_SKIP");
  if (only && *only && !harness_listed(name, only)) return 0;
  if (skip && *skip && harness_listed(name, skip)) {
    fprintf(stderr, "skipped: %s (MIXERLEAD_TEST_SKIP)\n", name);
    return 0;
  }
  return 1;
}
#define RUN(test)                           \
  do {                                      \
    if (harness_selected(#test)) test();    \
  } while (0)

/* Prints the closing line CI reads and returns the exit code. */
static int harness_summary(const char *suite) {
  harness_unbound();
  printf("%s: %d passed, %d failed\n", suite, harness_passed, harness_failed);
  return harness_failed == 0 ? 0 : 1;
}

/* Tests that could hang run under a bound: if the test named here has not finished when the
 * alarm rings, the program reports it and exits failed instead of hanging CI. */
static const char *harness_bounded_test = "";
static const char *harness_suite = "";

static void harness_report_hang(void) {
  char line[512];
  int n = snprintf(line, sizeof line, "FAILED: %s did not finish in time (a hang)\n%s: %d passed, %d failed\n",
                   harness_bounded_test, harness_suite, harness_passed, harness_failed + 1);
  if (n > 0) {
    ssize_t ignored = write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    (void)ignored;
  }
  _exit(1);
}

/* Arms the alarm: the test `name` must end within `seconds` (scaled under valgrind). */
static void harness_bound(const char *name, double seconds);


static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Slack for timing checks: valgrind runs everything far slower. */
static double time_scale(void) { return getenv("MIXERLEAD_UNDER_VALGRIND") ? 10.0 : 1.0; }

#ifdef _WIN32
/* No alarm(): a watchdog thread checks the deadline (0: none) every 100 ms. */
static volatile double harness_deadline;

static void *harness_watchdog(void *unused) {
  (void)unused;
  for (;;) {
    double deadline = harness_deadline;
    if (deadline > 0 && now_seconds() > deadline) harness_report_hang();
    Sleep(100);
  }
  return NULL;
}

static void harness_bound(const char *name, double seconds) {
  static int watching;
  harness_bounded_test = name;
  harness_deadline = now_seconds() + seconds * time_scale() + 1;
  if (!watching) {
    pthread_t watchdog;
    watching = pthread_create(&watchdog, NULL, harness_watchdog, NULL) == 0;
  }
}

static void harness_unbound(void) { harness_deadline = 0; }
#else
static void harness_on_alarm(int signal_number) {
  (void)signal_number;
  harness_report_hang();
}

static void harness_bound(const char *name, double seconds) {
  harness_bounded_test = name;
  signal(SIGALRM, harness_on_alarm);
  alarm((unsigned)(seconds * time_scale()) + 1);
}

static void harness_unbound(void) { alarm(0); }
#endif

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

/* The JSON of /_emulator/stats?id=ID into `out` (its body, NUL-terminated); 0 on success. */
static inline int emulator_stats(const char *id, char *out, size_t size) {
  const char *root = emulator_root();
  const char *port_text = strrchr(root, ':');
  if (!port_text || size == 0) return -1;
  out[0] = 0;
#ifdef _WIN32
  static int started;
  WSADATA wsa;
  if (!started && WSAStartup(MAKEWORD(2, 2), &wsa) != 0) return -1;
  started = 1;
#endif
  harness_socket fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(port_text + 1));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    harness_close_socket(fd);
    return -1;
  }
  char request[256];
  int n = snprintf(request, sizeof request,
                   "GET /_emulator/stats?id=p%d_%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", (int)getpid(), id);
  if (send(fd, request, n, 0) != n) {
    harness_close_socket(fd);
    return -1;
  }
  static char response[1 << 16];
  int used = 0, got;
  while (used < (int)sizeof response - 1 && (got = (int)recv(fd, response + used, (int)sizeof response - 1 - used, 0)) > 0) used += got;
  response[used] = 0;
  harness_close_socket(fd);
  const char *body = strstr(response, "\r\n\r\n");
  if (!body) return -1;
  snprintf(out, size, "%s", body + 4);
  return 0;
}

/* One number from /_emulator/stats?id=ID, e.g. "client_disconnects"; -1 on failure. */
static long emulator_stat(const char *id, const char *field) {
  static char stats[1 << 16];
  if (emulator_stats(id, stats, sizeof stats) != 0) return -1;
  char key[64];
  snprintf(key, sizeof key, "\"%s\":", field);
  const char *at = strstr(stats, key);
  return at ? atol(at + strlen(key)) : -1;
}

/* Whether the last request of scenario ID carried header NAME (lower-case) with VALUE. */
static inline int emulator_saw_header(const char *id, const char *name, const char *value) {
  static char stats[1 << 16];
  if (emulator_stats(id, stats, sizeof stats) != 0) return 0;
  char pair[512];
  snprintf(pair, sizeof pair, "\"%s\":\"%s\"", name, value);
  return strstr(stats, pair) != NULL;
}

/* Waits up to `within` seconds for the scenario to show `count` client disconnects. */
static long wait_disconnects(const char *id, long count, double within) {
  double deadline = now_seconds() + within * time_scale();
  long seen;
  while ((seen = emulator_stat(id, "client_disconnects")) < count && now_seconds() < deadline) usleep(10000);
  return seen;
}

#endif
