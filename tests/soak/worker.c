/* One C worker of the soak: mixed traffic (pull streams, callback calls, cancels, faults) against
 * the emulator until the time is up, then a JSON summary on stdout. Usage: worker ROOT SECONDS. */
#define _DEFAULT_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mixerlead.h"

static const char *root;
static long ops, unexpected;
static char first[512];

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what, ml_status status) {
  unexpected++;
  if (!first[0]) snprintf(first, sizeof first, "%s: status %d: %s", what, (int)status, ml_last_error_message());
}

static ml_client *client(const char *script, double read_timeout, int max_retries) {
  char url[512];
  snprintf(url, sizeof url, "%s/s/%s/api", root, script);
  ml_client_options options;
  ml_client_options_init(&options);
  options.api_key = "ml_test_soak_c";
  options.base_url = url;
  options.max_retry_wait = 1e-9;
  options.read_timeout = read_timeout;
  options.max_retries = max_retries;
  ml_client *c = NULL;
  ml_status s = ml_client_new(&options, &c);
  if (s != ML_OK) fail("client", s);
  return c;
}

/* Reads a stream to its end; returns the final status and the pieces read. */
static ml_status drain(const char *script, double read_timeout, long *pieces) {
  ml_client *c = client(script, read_timeout, -1);
  ml_chat_request request = {"soak", NULL, NULL};
  ml_stream *stream = NULL;
  ml_status s = ml_chat_stream(c, &request, &stream);
  const char *text;
  size_t len;
  *pieces = 0;
  if (s == ML_OK) {
    while ((s = ml_stream_next(stream, &text, &len)) == ML_OK) (*pieces)++;
  }
  ml_stream_free(stream);
  ml_client_free(c);
  return s;
}

struct call_state {
  atomic_int done;
  atomic_long pieces;
  ml_status status;
};

static int on_text(const char *text, size_t len, void *user_data) {
  (void)text;
  (void)len;
  atomic_fetch_add(&((struct call_state *)user_data)->pieces, 1);
  return 0;
}

static void on_done(ml_status status, const char *conversation_id, void *user_data) {
  (void)conversation_id;
  struct call_state *state = user_data;
  state->status = status;
  atomic_store(&state->done, 1);
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  root = argv[1];
  double deadline = now() + atof(argv[2]);
  while (now() < deadline) {
    long pieces;
    ml_status s = drain("pieces=200", -1, &pieces);
    if (s != ML_DONE || pieces != 200) fail("full", s);
    s = drain("stall_after=3", 0.2, &pieces);
    if (s != ML_ERR_TIMEOUT) fail("timeout", s);
    s = drain("disconnect_after=5;delay_ms=1", -1, &pieces);
    if (s != ML_ERR_STREAM || pieces != 5) fail("interrupted", s);

    ml_client *c = client("fail=503;times=1;id=soakc503", -1, -1);
    ml_model_list *models = NULL;
    s = ml_models_list(c, &models);
    if (s != ML_OK) fail("retried", s);
    ml_model_list_free(models);
    ml_client_free(c);

    c = client("fail=429;retry_after=0", -1, 1);
    s = ml_models_list(c, &models);
    if (s != ML_ERR_STATUS || ml_last_error_status_code() != 429) fail("rate_limited", s);
    ml_client_free(c);

    /* A callback call cancelled mid-stream. */
    c = client("pieces=2000;delay_ms=1", -1, -1);
    struct call_state state = {0};
    ml_chat_request request = {"soak", NULL, NULL};
    ml_call *call = NULL;
    s = ml_chat_start(c, &request, on_text, on_done, &state, &call);
    if (s != ML_OK) fail("start", s);
    while (atomic_load(&state.pieces) < 5 && !atomic_load(&state.done)) usleep(1000);
    ml_call_cancel(call);
    ml_call_free(call);
    if (!atomic_load(&state.done) || state.status != ML_ERR_CANCELLED) fail("cancel", state.status);
    ml_client_free(c);
    ops += 6;
  }
  printf("{\"worker\": \"c\", \"ops\": %ld, \"unexpected\": %ld, \"first_unexpected\": \"", ops, unexpected);
  for (const char *p = first; *p; p++) putchar(*p == '"' || *p == '\\' ? '\'' : *p);
  printf("\"}\n");
  return 0;
}
