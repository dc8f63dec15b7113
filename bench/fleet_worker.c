/* One C process of the fleet: WORKERS threads streaming chats in a loop for SECONDS.
 * fleet_worker BASE_URL KEY SECONDS WORKERS MODE [REDIS_URL RATE_PER_MINUTE BURST]
 * Prints one JSON line: {"ok", "failed", "errors", "latencies"}. */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mixerlead.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static ml_client *client;
static double end;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static size_t ok, failed, rate_limited, capacity;
static double *latencies;

static void *work(void *unused) {
  (void)unused;
  ml_chat_request request = {"fleet", NULL, NULL};
  while (now() < end) {
    double started = now();
    ml_stream *stream = NULL;
    ml_status status = ml_chat_stream(client, &request, &stream);
    const char *text;
    size_t len;
    while (status == ML_OK) status = ml_stream_next(stream, &text, &len);
    int code = ml_last_error_status_code();
    ml_stream_free(stream);
    pthread_mutex_lock(&lock);
    if (status == ML_DONE) {
      if (ok == capacity) {
        capacity = capacity ? 2 * capacity : 1024;
        latencies = realloc(latencies, capacity * sizeof *latencies);
      }
      latencies[ok++] = now() - started;
    } else {
      failed++;
      if (status == ML_ERR_STATUS && code == 429) rate_limited++;
    }
    pthread_mutex_unlock(&lock);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 6) return fprintf(stderr, "usage: fleet_worker BASE_URL KEY SECONDS WORKERS MODE [REDIS RATE]\n"), 2;
  ml_client_options options;
  ml_client_options_init(&options);
  options.base_url = argv[1];
  options.api_key = argv[2];
  if (strcmp(argv[5], "off") == 0) options.rate_limit = 0;
  if (strcmp(argv[5], "redis") == 0 && argc >= 9) {
    options.rate_limit_redis = argv[6];
    options.rate_limit = atof(argv[7]);
    options.rate_limit_burst = atoi(argv[8]);
  }
  if (ml_client_new(&options, &client) != ML_OK) return fprintf(stderr, "%s\n", ml_last_error_message()), 1;
  end = now() + atof(argv[3]);
  int workers = atoi(argv[4]);
  pthread_t *threads = calloc((size_t)workers, sizeof *threads);
  for (int i = 0; i < workers; i++) pthread_create(&threads[i], NULL, work, NULL);
  for (int i = 0; i < workers; i++) pthread_join(threads[i], NULL);
  printf("{\"ok\": %zu, \"failed\": %zu, \"errors\": {\"RateLimitError\": %zu}, \"latencies\": [", ok, failed,
         rate_limited);
  for (size_t i = 0; i < ok; i++) printf("%s%.6f", i ? ", " : "", latencies[i]);
  printf("]}\n");
  ml_client_free(client);
  free(threads);
  free(latencies);
  return 0;
}
