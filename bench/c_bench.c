/* C side of `make bench`: c_bench IMPL CASE URL — IMPL pull or callbacks; CASE sse or text. */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mixerlead.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct counts {
  size_t pieces, bytes;
  int done;
  ml_status status;
  pthread_mutex_t lock;
  pthread_cond_t cond;
};

static int on_text(const char *text, size_t len, void *user_data) {
  struct counts *c = user_data;
  (void)text;
  c->pieces++;
  c->bytes += len;
  return 0;
}

static void on_done(ml_status status, const char *conversation_id, void *user_data) {
  struct counts *c = user_data;
  (void)conversation_id;
  pthread_mutex_lock(&c->lock);
  c->status = status;
  c->done = 1;
  pthread_cond_signal(&c->cond);
  pthread_mutex_unlock(&c->lock);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: c_bench pull|callbacks sse|text URL\n");
    return 2;
  }
  ml_client_options options;
  ml_client_options_init(&options);
  options.api_key = "ml_test_bench_key";
  options.base_url = argv[3];
  ml_client *client = NULL;
  if (ml_client_new(&options, &client) != ML_OK) return fprintf(stderr, "%s\n", ml_last_error_message()), 1;
  ml_chat_request request = {"bench", NULL, NULL};
  struct counts c = {0, 0, 0, ML_OK, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
  double start = now();
  if (strcmp(argv[1], "pull") == 0) {
    ml_stream *stream = NULL;
    ml_status status = ml_chat_stream(client, &request, &stream);
    const char *text;
    size_t len;
    while (status == ML_OK && (status = ml_stream_next(stream, &text, &len)) == ML_OK) on_text(text, len, &c);
    c.status = status == ML_DONE ? ML_OK : status;
    ml_stream_free(stream);
  } else {
    ml_call *call = NULL;
    if (ml_chat_start(client, &request, on_text, on_done, &c, &call) == ML_OK) {
      pthread_mutex_lock(&c.lock);
      while (!c.done) pthread_cond_wait(&c.cond, &c.lock);
      pthread_mutex_unlock(&c.lock);
    }
    ml_call_free(call);
  }
  double seconds = now() - start;
  ml_client_free(client);
  if (c.status != ML_OK) return fprintf(stderr, "%s\n", ml_last_error_message()), 1;
  printf("{\"seconds\": %f, \"pieces\": %zu, \"bytes\": %zu}\n", seconds, c.pieces, c.bytes);
  return 0;
}
