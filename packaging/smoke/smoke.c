/* Smoke test of a packaged mixerlead C library against the emulator: the models list, a streamed
 * chat, an error, a cancel. `make dist-test` builds it against each C archive (pkg-config,
 * CMake find_package, statically with musl) and runs it where this machine can.
 *
 * usage: smoke ROOT     ROOT is the emulator's root, e.g. http://127.0.0.1:8765 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mixerlead.h"

#ifdef _WIN32
#include <windows.h>
static void sleep_ms(int ms) { Sleep((DWORD)ms); }
static void store_flag(volatile long *flag) { InterlockedExchange(flag, 1); }
static long load_flag(volatile long *flag) { return InterlockedCompareExchange(flag, 0, 0); }
#else
#include <time.h>
static void sleep_ms(int ms) {
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}
static void store_flag(volatile long *flag) { __atomic_store_n(flag, 1, __ATOMIC_RELEASE); }
static long load_flag(volatile long *flag) { return __atomic_load_n(flag, __ATOMIC_ACQUIRE); }
#endif

static int failures = 0;
#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf(stderr, "smoke.c:%d: %s (%s)\n", __LINE__, #cond, ml_last_error_message()); \
      failures++;                                                       \
    }                                                                   \
  } while (0)

static ml_client *client_for(const char *root, const char *script) {
  char url[512];
  if (script) snprintf(url, sizeof url, "%s/s/%s/api", root, script);
  else snprintf(url, sizeof url, "%s/api", root);
  ml_client_options options;
  ml_client_options_init(&options);
  options.api_key = "ml_test_smoke";
  options.base_url = url;
  options.max_retries = 0;
  ml_client *client = NULL;
  CHECK(ml_client_new(&options, &client) == ML_OK);
  return client;
}

struct done { volatile long finished; volatile ml_status status; };

static int on_text(const char *text, size_t len, void *user_data) {
  (void)text; (void)len; (void)user_data;
  return 0;
}

static void on_done(ml_status status, const char *conversation_id, void *user_data) {
  (void)conversation_id;
  struct done *d = user_data;
  d->status = status;
  store_flag(&d->finished);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s ROOT\n", argv[0]);
    return 2;
  }
  const char *root = argv[1];
  printf("mixerlead %s\n", ml_version());

  /* models */
  ml_client *client = client_for(root, NULL);
  ml_model_list *models = NULL;
  CHECK(ml_models_list(client, &models) == ML_OK);
  CHECK(models && ml_model_list_len(models) >= 1);
  ml_model_list_free(models);

  /* a streamed chat */
  ml_chat_request request = {"smoke test", NULL, NULL};
  ml_stream *stream = NULL;
  CHECK(ml_chat_stream(client, &request, &stream) == ML_OK);
  size_t pieces = 0, bytes = 0;
  const char *text;
  size_t len;
  ml_status status;
  while ((status = ml_stream_next(stream, &text, &len)) == ML_OK) {
    pieces++;
    bytes += len;
  }
  CHECK(status == ML_DONE);
  CHECK(pieces > 0 && bytes > 0);
  ml_stream_free(stream);
  ml_client_free(client);

  /* an error: HTTP 400 from the service */
  client = client_for(root, "fail=400");
  stream = NULL;
  status = ml_chat_stream(client, &request, &stream);
  CHECK(status == ML_ERR_STATUS);
  CHECK(ml_last_error_status_code() == 400);
  ml_stream_free(stream);
  ml_client_free(client);

  /* a cancel: a slow reply, cancelled after it started */
  client = client_for(root, "pieces=200;delay_ms=20");
  struct done d = {0, ML_OK};
  ml_call *call = NULL;
  CHECK(ml_chat_start(client, &request, on_text, on_done, &d, &call) == ML_OK);
  sleep_ms(50);
  ml_call_cancel(call);
  for (int i = 0; i < 200 && !load_flag(&d.finished); i++) sleep_ms(50);
  CHECK(d.finished);
  CHECK(d.status == ML_ERR_CANCELLED);
  ml_call_free(call);
  ml_client_free(client);

  printf("smoke (C): %s\n", failures ? "FAILED" : "models, stream, error, cancel: ok");
  return failures ? 1 : 0;
}
