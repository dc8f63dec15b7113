/* The C API against the emulator: clients, models, pull and callback streaming, errors, NULLs,
 * threads. Needs MIXERLEAD_TEST_ROOT (the emulator's http://127.0.0.1:PORT). */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#ifndef _WIN32
#include <sys/resource.h>
#endif

#include "harness.h"
#include "mixerlead.h"

static const char *KEY = "ml_test_csecretkey_K3y9";

static ml_client *client_for(const char *script) {
  char url[512];
  scenario_url(url, sizeof url, script);
  ml_client_options options;
  ml_client_options_init(&options);
  options.api_key = KEY;
  options.base_url = url;
  ml_client *client = NULL;
  CHECK_STATUS(ml_client_new(&options, &client), ML_OK);
  return client;
}

/* Reads a whole stream with ml_stream_next into `out`; returns the final status. */
static ml_status read_all(ml_stream *stream, char *out, size_t size, int *pieces) {
  const char *text;
  size_t len;
  ml_status status;
  size_t used = 0;
  *pieces = 0;
  out[0] = 0;
  while ((status = ml_stream_next(stream, &text, &len)) == ML_OK) {
    CHECK(len > 0 && strlen(text) == len);
    if (used + len < size) {
      memcpy(out + used, text, len);
      used += len;
      out[used] = 0;
    }
    (*pieces)++;
  }
  return status;
}

static void test_options_models_and_pull_stream(void) {
  ml_client *client = client_for("");
  ml_model_list *models = NULL;
  CHECK_STATUS(ml_models_list(client, &models), ML_OK);
  CHECK(ml_model_list_len(models) >= 2);
  CHECK(strcmp(ml_model_list_id(models, 0), "ml-auto") == 0);
  CHECK(strcmp(ml_model_list_name(models, 0), "Auto") == 0);
  CHECK(strcmp(ml_model_list_task(models, 0), "Automatic model selection") == 0);
  CHECK(!ml_model_list_requires_paid(models, 0));
  bool any_paid = false;
  for (size_t i = 0; i < ml_model_list_len(models); i++) any_paid |= ml_model_list_requires_paid(models, i);
  CHECK(any_paid);
  CHECK(ml_model_list_id(models, 999) == NULL);
  ml_model_list_free(models);

  ml_chat_request request = {"Hi from C", "ml-fast", NULL};
  ml_stream *stream = NULL;
  CHECK_STATUS(ml_chat_stream(client, &request, &stream), ML_OK);
  const char *conversation = ml_stream_conversation_id(stream);
  CHECK(conversation != NULL && strncmp(conversation, "conv_", 5) == 0);
  char text[4096], id[64];
  int pieces;
  CHECK_STATUS(read_all(stream, text, sizeof text, &pieces), ML_DONE);
  CHECK(pieces > 10);
  CHECK(strstr(text, "You said: \xe2\x80\x9cHi from C\xe2\x80\x9d") != NULL);
  const char *t;
  size_t len;
  CHECK_STATUS(ml_stream_next(stream, &t, &len), ML_DONE);
  snprintf(id, sizeof id, "%s", conversation);
  ml_stream_free(stream);

  ml_chat_request follow = {"again", NULL, id};
  CHECK_STATUS(ml_chat_stream(client, &follow, &stream), ML_OK);
  CHECK_STATUS(read_all(stream, text, sizeof text, &pieces), ML_DONE);
  char expect[128];
  snprintf(expect, sizeof expect, "reply 2 in %s", id);
  CHECK(strstr(text, expect) != NULL);
  ml_stream_free(stream);
  ml_client_free(client);
}

static void test_client_from_environment(void) {
  char url[512];
  scenario_url(url, sizeof url, "id=cenv");
  setenv("MIXERLEAD_API_KEY", KEY, 1);
  setenv("MIXERLEAD_BASE_URL", url, 1);
  setenv("MIXERLEAD_PROJECT_ID", "proj_c", 1);
  ml_client *client = NULL;
  CHECK_STATUS(ml_client_new(NULL, &client), ML_OK);
  ml_model_list *models = NULL;
  CHECK_STATUS(ml_models_list(client, &models), ML_OK);
  ml_model_list_free(models);
  CHECK(emulator_stat("cenv", "requests") == 1);
  ml_client_free(client);
  unsetenv("MIXERLEAD_API_KEY");
  unsetenv("MIXERLEAD_BASE_URL");
  unsetenv("MIXERLEAD_PROJECT_ID");
  client = (ml_client *)0x1;
  CHECK_STATUS(ml_client_new(NULL, &client), ML_ERR_CONFIG);
  CHECK(client == NULL);
  CHECK(strstr(ml_last_error_message(), "MIXERLEAD_API_KEY") != NULL);
}

struct collected {
  char text[8192];
  size_t used;
  int pieces;
  int stop_after; /* return non-zero after this many pieces (0: never) */
  atomic_int done_calls;
  ml_status status;
  char conversation[64];
  char message[256];
  char request_id[64]; /* ml_last_error_request_id() in on_done, after a failure */
  bool on_runtime_thread;
};

static int on_text(const char *text, size_t len, void *user_data) {
  struct collected *c = user_data;
#ifdef _WIN32
  c->on_runtime_thread = true; /* winpthreads cannot read the name Rust gives its threads */
#else
  char name[32] = {0};
  pthread_getname_np(pthread_self(), name, sizeof name);
  c->on_runtime_thread = strncmp(name, "mixerlead-rt", 12) == 0;
#endif
  if (c->used + len < sizeof c->text) {
    memcpy(c->text + c->used, text, len);
    c->used += len;
    c->text[c->used] = 0;
  }
  c->pieces++;
  return c->stop_after && c->pieces >= c->stop_after;
}

static void on_done(ml_status status, const char *conversation_id, void *user_data) {
  struct collected *c = user_data;
  c->status = status;
  snprintf(c->conversation, sizeof c->conversation, "%s", conversation_id ? conversation_id : "");
  snprintf(c->message, sizeof c->message, "%s", status == ML_OK ? "" : ml_last_error_message());
  const char *request_id = status == ML_OK ? NULL : ml_last_error_request_id();
  snprintf(c->request_id, sizeof c->request_id, "%s", request_id ? request_id : "");
  atomic_fetch_add(&c->done_calls, 1);
}

static void wait_done(struct collected *c) {
  double deadline = now_seconds() + 10 * time_scale();
  while (atomic_load(&c->done_calls) == 0 && now_seconds() < deadline) usleep(2000);
}

static void test_callback_streaming(void) {
  ml_client *client = client_for("pieces=300");
  struct collected *c = calloc(1, sizeof *c);
  ml_chat_request request = {"callbacks", NULL, NULL};
  ml_call *call = NULL;
  CHECK_STATUS(ml_chat_start(client, &request, on_text, on_done, c, &call), ML_OK);
  wait_done(c);
  ml_call_free(call);
  CHECK(atomic_load(&c->done_calls) == 1);
  CHECK_STATUS(c->status, ML_OK);
  CHECK(c->pieces == 300);
  CHECK(strncmp(c->text, "w0 w1 w2 ", 9) == 0);
  CHECK(strstr(c->text, "\xc3\xa9" "19 w20 ") != NULL);
  CHECK(strncmp(c->conversation, "conv_", 5) == 0);
  CHECK(c->on_runtime_thread);
  free(c);
  ml_client_free(client);
}

static void test_callback_cancellation(void) {
  /* Non-zero from on_text. */
  ml_client *client = client_for("id=ccb1;pieces=1000;delay_ms=10");
  struct collected *c = calloc(1, sizeof *c);
  c->stop_after = 3;
  ml_chat_request request = {"x", NULL, NULL};
  ml_call *call = NULL;
  CHECK_STATUS(ml_chat_start(client, &request, on_text, on_done, c, &call), ML_OK);
  wait_done(c);
  CHECK_STATUS(c->status, ML_ERR_CANCELLED);
  CHECK(c->pieces == 3);
  CHECK(wait_disconnects("ccb1", 1, 1.0) == 1);
  ml_call_free(call);
  CHECK(atomic_load(&c->done_calls) == 1);
  ml_client_free(client);

  /* ml_call_cancel while stalled. */
  client = client_for("id=ccb2;stall_after=2");
  memset(c, 0, sizeof *c);
  CHECK_STATUS(ml_chat_start(client, &request, on_text, on_done, c, &call), ML_OK);
  usleep(200000);
  ml_call_cancel(call);
  wait_done(c);
  CHECK_STATUS(c->status, ML_ERR_CANCELLED);
  CHECK(c->pieces == 2);
  CHECK(wait_disconnects("ccb2", 1, 1.0) == 1);
  ml_call_free(call);

  /* ml_call_free of a running call cancels it and waits for on_done. */
  memset(c, 0, sizeof *c);
  CHECK_STATUS(ml_chat_start(client, &request, on_text, on_done, c, &call), ML_OK);
  usleep(100000);
  ml_call_free(call);
  CHECK(atomic_load(&c->done_calls) == 1);
  CHECK_STATUS(c->status, ML_ERR_CANCELLED);
  CHECK(wait_disconnects("ccb2", 2, 1.0) == 2);
  free(c);
  ml_client_free(client);
}

static void test_stream_free_mid_stream_aborts(void) {
  ml_client *client = client_for("id=cfree;pieces=1000;delay_ms=10");
  ml_chat_request request = {"x", NULL, NULL};
  ml_stream *stream = NULL;
  CHECK_STATUS(ml_chat_stream(client, &request, &stream), ML_OK);
  const char *text;
  size_t len;
  CHECK_STATUS(ml_stream_next(stream, &text, &len), ML_OK);
  ml_stream_free(stream);
  CHECK(wait_disconnects("cfree", 1, 1.0) == 1);
  ml_client_free(client);
}

static ml_status chat_status(const char *script) {
  ml_client *client = client_for(script);
  ml_chat_request request = {"x", NULL, NULL};
  ml_stream *stream = NULL;
  ml_status status = ml_chat_stream(client, &request, &stream);
  if (status == ML_OK) {
    const char *text;
    size_t len;
    while ((status = ml_stream_next(stream, &text, &len)) == ML_OK) {
    }
    if (status == ML_DONE) status = ML_OK;
  }
  ml_stream_free(stream);
  ml_client_free(client);
  return status;
}

static void test_every_status(void) {
  CHECK_STATUS(chat_status("fail=404"), ML_ERR_STATUS);
  CHECK(ml_last_error_status_code() == 404);
  CHECK(strstr(ml_last_error_message(), "scripted failure 404") != NULL);
  CHECK(ml_last_error_retry_after() < 0);
  CHECK_STATUS(chat_status("fail=429;retry_after=0.02"), ML_ERR_STATUS);
  CHECK(ml_last_error_status_code() == 429);
  CHECK(ml_last_error_retry_after() == 0.02);
  CHECK_STATUS(chat_status("disconnect_after=3"), ML_ERR_STREAM);
  CHECK(ml_last_error_status_code() == 0);
  CHECK_STATUS(chat_status("error_after=2"), ML_ERR_DECODE);
  CHECK_STATUS(chat_status("format=json;malformed"), ML_ERR_DECODE);

  char url[512];
  scenario_url(url, sizeof url, "stall_after=2");
  ml_client_options options;
  ml_client_options_init(&options);
  options.api_key = KEY;
  options.base_url = url;
  options.read_timeout = 0.3;
  ml_client *client = NULL;
  CHECK_STATUS(ml_client_new(&options, &client), ML_OK);
  ml_chat_request request = {"x", NULL, NULL};
  ml_stream *stream = NULL;
  CHECK_STATUS(ml_chat_stream(client, &request, &stream), ML_OK);
  char text[1024];
  int pieces;
  CHECK_STATUS(read_all(stream, text, sizeof text, &pieces), ML_ERR_TIMEOUT);
  CHECK(pieces == 2);
  ml_stream_free(stream);
  ml_client_free(client);

  ml_client_options_init(&options);
  options.api_key = KEY;
  options.base_url = "http://127.0.0.1:1/api";
  options.max_retries = 0;
  CHECK_STATUS(ml_client_new(&options, &client), ML_OK);
  CHECK_STATUS(ml_chat_stream(client, &request, &stream), ML_ERR_CONNECTION);
  ml_client_free(client);

  options.base_url = "http://example.com/api";
  CHECK_STATUS(ml_client_new(&options, &client), ML_ERR_CONFIG);
  options.base_url = NULL;
  options.timeout = -1; /* <= 0: default, not an error */
  CHECK_STATUS(ml_client_new(&options, &client), ML_OK);
  ml_client_free(client);
  CHECK(strcmp(ml_version(), ML_VERSION_STRING) == 0);
}

struct thread_error {
  const char *script;
  int status_code;
  char message[256];
};

static void *fail_in_thread(void *arg) {
  struct thread_error *e = arg;
  chat_status(e->script);
  usleep(50000); /* let the other thread fail meanwhile */
  e->status_code = ml_last_error_status_code();
  snprintf(e->message, sizeof e->message, "%s", ml_last_error_message());
  return NULL;
}

static void test_last_error_is_per_thread(void) {
  struct thread_error a = {"fail=404", 0, ""}, b = {"fail=409", 0, ""};
  pthread_t ta, tb;
  pthread_create(&ta, NULL, fail_in_thread, &a);
  pthread_create(&tb, NULL, fail_in_thread, &b);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  CHECK(a.status_code == 404 && strstr(a.message, "404") != NULL);
  CHECK(b.status_code == 409 && strstr(b.message, "409") != NULL);
}

static void test_nulls_and_bad_input(void) {
  ml_client *client = client_for("id=cnull");
  ml_model_list *models = NULL;
  ml_stream *stream = NULL;
  ml_call *call = NULL;
  const char *text = NULL;
  size_t len = 0;
  ml_chat_request request = {"x", NULL, NULL};
  CHECK_STATUS(ml_client_new(NULL, NULL), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_models_list(NULL, &models), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_models_list(client, NULL), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_chat_stream(NULL, &request, &stream), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_chat_stream(client, NULL, &stream), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_chat_stream(client, &request, NULL), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_stream_next(NULL, &text, &len), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_chat_start(NULL, &request, on_text, on_done, NULL, &call), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_chat_start(client, NULL, on_text, on_done, NULL, &call), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_chat_start(client, &request, NULL, on_done, NULL, &call), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_chat_start(client, &request, on_text, NULL, NULL, &call), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_chat_start(client, &request, on_text, on_done, NULL, NULL), ML_ERR_INVALID_ARGUMENT);
  ml_request_options request_options;
  ml_request_options_init(&request_options);
  CHECK_STATUS(ml_models_list_with(NULL, &request_options, &models), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_models_list_with(client, &request_options, NULL), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_chat_stream_with(NULL, &request, &request_options, &stream), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_chat_stream_with(client, NULL, &request_options, &stream), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_chat_stream_with(client, &request, &request_options, NULL), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_chat_start_with(NULL, &request, &request_options, on_text, on_done, NULL, &call), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_chat_start_with(client, &request, &request_options, NULL, on_done, NULL, &call), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_chat_start_with(client, &request, &request_options, on_text, on_done, NULL, NULL), ML_ERR_INVALID_ARGUMENT);
  CHECK(ml_model_list_len(NULL) == 0);
  CHECK(ml_model_list_id(NULL, 0) == NULL && ml_model_list_name(NULL, 0) == NULL);
  CHECK(ml_model_list_task(NULL, 0) == NULL && !ml_model_list_requires_paid(NULL, 0));
  CHECK(ml_stream_conversation_id(NULL) == NULL);
  ml_client_options_init_size(NULL, sizeof(ml_client_options));
  ml_client_free(NULL);
  ml_model_list_free(NULL);
  ml_stream_free(NULL);
  ml_call_cancel(NULL);
  ml_call_free(NULL);

  ml_chat_request no_message = {NULL, NULL, NULL};
  CHECK_STATUS(ml_chat_stream(client, &no_message, &stream), ML_ERR_INVALID_ARGUMENT);
  ml_chat_request empty = {"", NULL, NULL};
  CHECK_STATUS(ml_chat_stream(client, &empty, &stream), ML_ERR_INVALID_ARGUMENT);
  ml_chat_request bad_utf8 = {"caf\xe9", NULL, NULL};
  CHECK_STATUS(ml_chat_stream(client, &bad_utf8, &stream), ML_ERR_INVALID_ARGUMENT);
  CHECK(strstr(ml_last_error_message(), "UTF-8") != NULL);
  ml_chat_request bad_model = {"x", "\xff", NULL};
  CHECK_STATUS(ml_chat_start(client, &bad_model, on_text, on_done, NULL, &call), ML_ERR_INVALID_ARGUMENT);
  CHECK(emulator_stat("cnull", "requests") <= 0);
  ml_client_options options;
  ml_client_options_init(&options);
  options.api_key = "ml_\xff";
  ml_client *bad = NULL;
  CHECK_STATUS(ml_client_new(&options, &bad), ML_ERR_INVALID_ARGUMENT);
  ml_client_free(client);
}

/* ---- Per-request options ---- */

static bool starts_with(const char *text, const char *prefix) {
  return text != NULL && strncmp(text, prefix, strlen(prefix)) == 0;
}

static void test_request_options_override_the_clients(void) {
  harness_bound("test_request_options_override_the_clients", 60);
  ml_request_options options;
  memset(&options, 0x5a, sizeof options);
  ml_request_options_init(&options);
  CHECK(options.size == sizeof options && options.timeout == 0 && options.max_retries == -1);
  CHECK(options.headers == NULL && options.header_count == 0);
  ml_chat_request request = {"x", NULL, NULL};
  ml_model_list *models = NULL;
  ml_stream *stream = NULL;

  /* A per-request timeout shorter than the client's fires (one attempt each: no retries). */
  ml_client *client = client_for("id=copt_slow;header_delay_ms=1500");
  options.timeout = 0.2;
  options.max_retries = 0;
  double started = now_seconds();
  CHECK_STATUS(ml_models_list_with(client, &options, &models), ML_ERR_TIMEOUT);
  CHECK(models == NULL);
  CHECK_STATUS(ml_chat_stream_with(client, &request, &options, &stream), ML_ERR_TIMEOUT);
  CHECK(stream == NULL);
  CHECK(now_seconds() - started < 1.4 * time_scale());
  CHECK(emulator_stat("copt_slow", "requests") == 2);
  ml_client_free(client);
  /* And a longer one than the client's lets a slow response through. */
  char url[512];
  scenario_url(url, sizeof url, "id=copt_patient;header_delay_ms=400");
  ml_client_options client_options;
  ml_client_options_init(&client_options);
  client_options.api_key = KEY;
  client_options.base_url = url;
  client_options.timeout = 0.1;
  client_options.max_retries = 0;
  CHECK_STATUS(ml_client_new(&client_options, &client), ML_OK);
  CHECK_STATUS(ml_models_list(client, &models), ML_ERR_TIMEOUT);
  options.timeout = 5;
  CHECK_STATUS(ml_models_list_with(client, &options, &models), ML_OK);
  CHECK(ml_model_list_len(models) >= 2);
  ml_model_list_free(models);
  ml_client_free(client);

  /* max_retries = 0 makes one attempt; the client's other calls still retry (2 retries). */
  client = client_for("id=copt_retry;fail=503;retry_after=0.01");
  ml_request_options_init(&options);
  options.max_retries = 0;
  CHECK_STATUS(ml_models_list_with(client, &options, &models), ML_ERR_STATUS);
  CHECK(ml_last_error_status_code() == 503);
  CHECK(emulator_stat("copt_retry", "requests") == 1);
  CHECK_STATUS(ml_models_list(client, &models), ML_ERR_STATUS);
  CHECK(emulator_stat("copt_retry", "requests") == 4);
  CHECK_STATUS(ml_chat_stream_with(client, &request, &options, &stream), ML_ERR_STATUS);
  CHECK(emulator_stat("copt_retry", "requests") == 5);
  struct collected *c = calloc(1, sizeof *c);
  ml_call *call = NULL;
  CHECK_STATUS(ml_chat_start_with(client, &request, &options, on_text, on_done, c, &call), ML_OK);
  wait_done(c);
  ml_call_free(call);
  CHECK_STATUS(c->status, ML_ERR_STATUS);
  CHECK(emulator_stat("copt_retry", "requests") == 6);
  CHECK_STATUS(chat_status("id=copt_retry;fail=503;retry_after=0.01"), ML_ERR_STATUS);
  CHECK(emulator_stat("copt_retry", "requests") == 9);
  ml_client_free(client);

  /* Extra headers reach the service, on every kind of call. */
  client = client_for("id=copt_headers");
  const char *headers[] = {"X-Trace", "trace-c-1", "X-Tenant", "t-42"};
  ml_request_options_init(&options);
  options.headers = headers;
  options.header_count = 2;
  CHECK_STATUS(ml_models_list_with(client, &options, &models), ML_OK);
  ml_model_list_free(models);
  CHECK(emulator_saw_header("copt_headers", "x-trace", "trace-c-1"));
  CHECK(emulator_saw_header("copt_headers", "x-tenant", "t-42"));
  headers[1] = "trace-c-2";
  CHECK_STATUS(ml_chat_stream_with(client, &request, &options, &stream), ML_OK);
  ml_stream_free(stream);
  CHECK(emulator_saw_header("copt_headers", "x-trace", "trace-c-2"));
  headers[1] = "trace-c-3";
  memset(c, 0, sizeof *c);
  CHECK_STATUS(ml_chat_start_with(client, &request, &options, on_text, on_done, c, &call), ML_OK);
  headers[1] = "changed after the start"; /* the options were copied */
  wait_done(c);
  ml_call_free(call);
  CHECK_STATUS(c->status, ML_OK);
  CHECK(emulator_saw_header("copt_headers", "x-trace", "trace-c-3"));
  CHECK_STATUS(ml_models_list_with(client, NULL, &models), ML_OK); /* NULL: the client's */
  ml_model_list_free(models);
  CHECK(!emulator_saw_header("copt_headers", "x-trace", "changed after the start"));
  CHECK(emulator_stat("copt_headers", "requests") == 4);
  free(c);
  ml_client_free(client);
  harness_unbound();
}

/* Fails `options` with ML_ERR_... `status` and a message naming `named`, sending nothing. */
static void check_refused_options(ml_client *client, const ml_request_options *options, ml_status status,
                                  const char *named) {
  ml_model_list *models = (ml_model_list *)0x1;
  CHECK_STATUS(ml_models_list_with(client, options, &models), status);
  CHECK(models == NULL);
  if (!strstr(ml_last_error_message(), named)) fprintf(stderr, "%s does not name %s\n", ml_last_error_message(), named);
  CHECK(strstr(ml_last_error_message(), named) != NULL);
  ml_chat_request request = {"x", NULL, NULL};
  ml_stream *stream = NULL;
  CHECK_STATUS(ml_chat_stream_with(client, &request, options, &stream), status);
  CHECK(strstr(ml_last_error_message(), named) != NULL);
}

static void test_bad_request_options(void) {
  ml_client *client = client_for("id=copt_bad");
  ml_request_options options;
  const char *authorization[] = {"authorization", "Bearer ml_other_key"};
  const char *newline[] = {"X-Evil", "a\r\nX-Injected: 1"};
  const char *bad_name[] = {"Bad Name", "v"};
  const char *null_value[] = {"X-Ok", "1", "X-Trace", NULL};
  const char *null_name[] = {NULL, "v"};
  const char *bad_utf8[] = {"X-Trace", "caf\xe9"};
  struct {
    const char **headers;
    size_t count;
    ml_status status;
    const char *named;
  } cases[] = {
      {authorization, 1, ML_ERR_CONFIG, "Authorization"},
      {newline, 1, ML_ERR_CONFIG, "X-Evil"},
      {bad_name, 1, ML_ERR_CONFIG, "Bad Name"},
      {null_value, 2, ML_ERR_INVALID_ARGUMENT, "options->headers[3]"},
      {null_name, 1, ML_ERR_INVALID_ARGUMENT, "options->headers[0]"},
      {bad_utf8, 1, ML_ERR_INVALID_ARGUMENT, "UTF-8"},
      {NULL, 2, ML_ERR_INVALID_ARGUMENT, "options->headers is NULL"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ml_request_options_init(&options);
    options.headers = cases[i].headers;
    options.header_count = cases[i].count;
    check_refused_options(client, &options, cases[i].status, cases[i].named);
  }
  ml_request_options_init(&options);
  options.timeout = NAN;
  check_refused_options(client, &options, ML_ERR_INVALID_ARGUMENT, "timeout");
  options.timeout = INFINITY;
  check_refused_options(client, &options, ML_ERR_INVALID_ARGUMENT, "timeout");
  options.timeout = -3; /* <= 0: the client's, as in ml_client_options */
  ml_model_list *models = NULL;
  CHECK_STATUS(ml_models_list_with(client, &options, &models), ML_OK);
  ml_model_list_free(models);
  memset(&options, 0, sizeof options); /* not initialized: size 0 */
  check_refused_options(client, &options, ML_ERR_INVALID_ARGUMENT, "ml_request_options_init");
  CHECK(emulator_stat("copt_bad", "requests") == 1);
  ml_client_free(client);
}

/* A program built against an older header passes a smaller struct; one built against a newer
 * header, a larger one. The library reads (and ml_request_options_init writes) only what fits. */
static void test_request_options_size(void) {
  union {
    ml_request_options options;
    unsigned char bytes[sizeof(ml_request_options) + 32];
  } older, newer;
  size_t older_size = offsetof(ml_request_options, max_retries); /* size and timeout only */
  memset(&older, 0xa5, sizeof older);
  ml_request_options_init_size(&older.options, older_size);
  CHECK(older.options.size == older_size && older.options.timeout == 0);
  bool untouched = true;
  for (size_t i = older_size; i < sizeof older; i++) untouched &= older.bytes[i] == 0xa5;
  CHECK(untouched);
  /* What lies past its size is not the library's to read: garbage must change nothing. */
  older.options.timeout = 5;
  older.options.max_retries = 0;
  older.options.headers = (const char *const *)(uintptr_t)0x1;
  older.options.header_count = 3;
  ml_client *client = client_for("id=copt_older;fail=503;retry_after=0.01");
  ml_model_list *models = NULL;
  CHECK_STATUS(ml_models_list_with(client, &older.options, &models), ML_ERR_STATUS);
  CHECK(emulator_stat("copt_older", "requests") == 3); /* the client's retries, not max_retries = 0 */
  ml_client_free(client);

  memset(&newer, 0xa5, sizeof newer);
  ml_request_options_init_size(&newer.options, sizeof newer);
  CHECK(newer.options.size == sizeof newer && newer.options.max_retries == -1 && newer.options.headers == NULL);
  CHECK(newer.bytes[sizeof newer - 1] == 0); /* fields this library does not know: zeroed */
  newer.options.max_retries = 0;
  client = client_for("id=copt_newer;fail=503;retry_after=0.01");
  CHECK_STATUS(ml_models_list_with(client, &newer.options, &models), ML_ERR_STATUS);
  CHECK(emulator_stat("copt_newer", "requests") == 1);
  ml_client_free(client);

  ml_request_options_init_size(NULL, sizeof(ml_request_options));
  size_t tiny = 0;
  ml_request_options_init_size((ml_request_options *)(void *)&tiny, 3); /* too small for size: untouched */
  CHECK(tiny == 0);
}

/* ---- ml_client_options: a leading size, fields appended (issue 20, item 1) ---- */

/* ml_client_options as a program built against the header before the traffic-control fields
 * knows it: the size and the fields up to proxy. */
struct old_client_options {
  size_t size;
  const char *api_key, *base_url, *project_id;
  double timeout, connect_timeout, read_timeout, max_retry_wait;
  int max_retries;
  bool allow_insecure_http;
  const char *ca_file, *proxy;
};
_Static_assert(sizeof(struct old_client_options) == offsetof(ml_client_options, rate_limit),
               "the old layout is the prefix of ml_client_options before rate_limit");

static void test_client_options_init(void) {
  ml_client_options options;
  memset(&options, 0x5a, sizeof options);
  ml_client_options_init(&options);
  CHECK(options.size == sizeof options);
  CHECK(options.api_key == NULL && options.base_url == NULL && options.project_id == NULL);
  CHECK(options.timeout == 0 && options.connect_timeout == 0 && options.read_timeout == 0);
  CHECK(options.max_retry_wait == 0 && options.max_retries == -1 && !options.allow_insecure_http);
  CHECK(options.ca_file == NULL && options.proxy == NULL);
  CHECK(options.rate_limit == -1 && options.rate_limit_burst == -1);
  CHECK(options.rate_limit_redis == NULL && options.max_concurrency == -1);
  /* The defaults pass nothing to the core (NULL options, every default, is in
   * test_client_from_environment). */
  char url[512];
  scenario_url(url, sizeof url, "id=copt_client_init");
  options.api_key = KEY;
  options.base_url = url;
  ml_client *client = NULL;
  CHECK_STATUS(ml_client_new(&options, &client), ML_OK);
  ml_model_list *models = NULL;
  CHECK_STATUS(ml_models_list(client, &models), ML_OK);
  ml_model_list_free(models);
  ml_client_free(client);
  CHECK(emulator_stat("copt_client_init", "requests") == 1);
}

/* A program built against an older header passes a smaller struct; one built against a newer
 * header, a larger one. ml_client_options_init writes, and ml_client_new reads, only what fits. */
static void test_client_options_size(void) {
  union {
    struct old_client_options old;
    ml_client_options options;
    unsigned char bytes[sizeof(ml_client_options) + 32];
  } older, newer;
  memset(&older, 0xa5, sizeof older);
  ml_client_options_init_size((ml_client_options *)(void *)&older.old, sizeof older.old);
  CHECK(older.old.size == sizeof older.old && older.old.api_key == NULL && older.old.max_retries == -1);
  CHECK(older.old.timeout == 0 && !older.old.allow_insecure_http && older.old.proxy == NULL);
  bool untouched = true;
  for (size_t i = sizeof older.old; i < sizeof older; i++) untouched &= older.bytes[i] == 0xa5;
  CHECK(untouched);
  /* What lies past its size is not the library's to read: values there that would fail, or
   * crash if read (a wild string), must change nothing. */
  older.options.rate_limit = NAN;
  older.options.rate_limit_burst = 0;
  older.options.rate_limit_redis = (const char *)(uintptr_t)0x1;
  older.options.max_concurrency = 0;
  char url[512];
  scenario_url(url, sizeof url, "id=copt_client_older");
  older.old.api_key = KEY;
  older.old.base_url = url;
  ml_client *client = NULL;
  CHECK_STATUS(ml_client_new((const ml_client_options *)(void *)&older.old, &client), ML_OK);
  ml_chat_request request = {"from an older program", NULL, NULL};
  ml_stream *stream = NULL;
  CHECK_STATUS(ml_chat_stream(client, &request, &stream), ML_OK);
  char text[4096];
  int pieces = 0;
  CHECK_STATUS(read_all(stream, text, sizeof text, &pieces), ML_DONE);
  CHECK(strstr(text, "from an older program") != NULL);
  ml_stream_free(stream);
  ml_client_free(client);
  /* The old fields are read: max_retries = 0 makes one attempt, not three. */
  scenario_url(url, sizeof url, "id=copt_client_older_once;fail=503;retry_after=0.01");
  older.old.max_retries = 0;
  CHECK_STATUS(ml_client_new((const ml_client_options *)(void *)&older.old, &client), ML_OK);
  ml_model_list *models = NULL;
  CHECK_STATUS(ml_models_list(client, &models), ML_ERR_STATUS);
  CHECK(emulator_stat("copt_client_older_once", "requests") == 1);
  ml_client_free(client);

  /* A newer program's struct: the fields this library does not know are zeroed by init and
   * ignored by ml_client_new, whatever they hold. */
  memset(&newer, 0xa5, sizeof newer);
  ml_client_options_init_size(&newer.options, sizeof newer);
  CHECK(newer.options.size == sizeof newer && newer.options.max_concurrency == -1);
  CHECK(newer.options.rate_limit == -1 && newer.options.rate_limit_redis == NULL);
  CHECK(newer.bytes[sizeof newer - 1] == 0);
  memset(newer.bytes + sizeof(ml_client_options), 0xa5, sizeof newer - sizeof(ml_client_options));
  newer.options.api_key = KEY;
  scenario_url(url, sizeof url, "id=copt_client_newer");
  newer.options.base_url = url;
  CHECK_STATUS(ml_client_new(&newer.options, &client), ML_OK);
  CHECK_STATUS(ml_models_list(client, &models), ML_OK);
  ml_model_list_free(models);
  ml_client_free(client);

  /* A size smaller than the size field itself: not initialized. */
  ml_client_options options;
  ml_client_options_init(&options);
  options.api_key = KEY;
  size_t sizes[] = {0, 1, sizeof(size_t) - 1};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    options.size = sizes[i];
    client = (ml_client *)0x1;
    CHECK_STATUS(ml_client_new(&options, &client), ML_ERR_INVALID_ARGUMENT);
    CHECK(client == NULL);
    CHECK(strstr(ml_last_error_message(), "ml_client_options_init") != NULL);
  }
  ml_client_options_init_size(NULL, sizeof(ml_client_options));
  size_t tiny = 0;
  ml_client_options_init_size((ml_client_options *)(void *)&tiny, 3); /* too small for size: untouched */
  CHECK(tiny == 0);
}

/* The traffic-control fields reach the core's ClientBuilder::set by name, and the core checks
 * them there, before anything is sent. */
/* options.record appends every exchange to a cassette: a first line naming the format, a line
 * per exchange with the reply's chunks, and never the key. */
static void test_record_option(void) {
  const char *path = "test_c_record.cassette";
  remove(path);
  char url[512];
  scenario_url(url, sizeof url, "id=crecord");
  ml_client_options options;
  ml_client_options_init(&options);
  options.api_key = KEY;
  options.base_url = url;
  options.record = path;
  ml_client *client = NULL;
  CHECK_STATUS(ml_client_new(&options, &client), ML_OK);
  ml_chat_request request = {"record me", NULL, NULL};
  ml_stream *stream = NULL;
  CHECK_STATUS(ml_chat_stream(client, &request, &stream), ML_OK);
  const char *text;
  size_t len;
  ml_status status;
  while ((status = ml_stream_next(stream, &text, &len)) == ML_OK) {
  }
  CHECK_STATUS(status, ML_DONE);
  ml_stream_free(stream);
  ml_client_free(client);
  FILE *file = fopen(path, "rb");
  CHECK(file != NULL);
  if (file) {
    static char cassette[1 << 16];
    size_t n = fread(cassette, 1, sizeof cassette - 1, file);
    cassette[n] = 0;
    fclose(file);
    CHECK(strncmp(cassette, "{\"mixerlead_cassette\": 1}\n", 26) == 0 || strncmp(cassette, "{\"mixerlead_cassette\":1}\n", 25) == 0);
    CHECK(strstr(cassette, "\"path\":\"/chat\"") != NULL);
    CHECK(strstr(cassette, "record me") != NULL);
    CHECK(strstr(cassette, "csecret") == NULL && strstr(cassette, KEY) == NULL);
  }
  remove(path);
  /* A path that cannot be written: ML_ERR_CONFIG when the client is made. */
  options.record = "no-such-directory/x/cassette.jsonl";
  client = (ml_client *)0x1;
  CHECK_STATUS(ml_client_new(&options, &client), ML_ERR_CONFIG);
  CHECK(client == NULL);
  CHECK(strstr(ml_last_error_message(), "record") != NULL);
}

static void test_traffic_control_options(void) {
  char url[512];
  scenario_url(url, sizeof url, "id=copt_traffic");
  ml_client_options options;
  ml_client *client = NULL;
  struct {
    double rate_limit;
    int rate_limit_burst;
    const char *rate_limit_redis;
    int max_concurrency;
    const char *named;
  } bad[] = {
      {-1, 0, NULL, -1, "rate_limit_burst"},
      {600, 0, NULL, -1, "rate_limit_burst"},
      {-1, -1, NULL, 0, "max_concurrency"},
      {-1, -1, "not a url", -1, "rate_limit_redis"},
      {-1, -1, "http://127.0.0.1:6379", -1, "rate_limit_redis"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ml_client_options_init(&options);
    options.api_key = KEY;
    options.base_url = url;
    options.rate_limit = bad[i].rate_limit;
    options.rate_limit_burst = bad[i].rate_limit_burst;
    options.rate_limit_redis = bad[i].rate_limit_redis;
    options.max_concurrency = bad[i].max_concurrency;
    client = (ml_client *)0x1;
    CHECK_STATUS(ml_client_new(&options, &client), ML_ERR_CONFIG);
    CHECK(client == NULL);
    const char *message = ml_last_error_message();
    if (!strstr(message, bad[i].named) || strstr(message, "unknown client option"))
      fprintf(stderr, "case %zu (%s): %s\n", i, bad[i].named, message);
    CHECK(strstr(message, bad[i].named) != NULL);
    CHECK(strstr(message, "unknown client option") == NULL);
  }
  /* Not UTF-8: refused by the binding, naming the field. */
  ml_client_options_init(&options);
  options.rate_limit_redis = "redis://caf\xe9";
  CHECK_STATUS(ml_client_new(&options, &client), ML_ERR_INVALID_ARGUMENT);
  CHECK(strstr(ml_last_error_message(), "rate_limit_redis") != NULL);

  /* Good values give a working client: a rate and burst, a cap, and traffic control off. */
  struct {
    double rate_limit;
    int rate_limit_burst, max_concurrency;
  } good[] = {{6000, 10, 4}, {0, -1, -1}, {-1, -1, 1}, {120.5, -1, -1}};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    ml_client_options_init(&options);
    options.api_key = KEY;
    options.base_url = url;
    options.rate_limit = good[i].rate_limit;
    options.rate_limit_burst = good[i].rate_limit_burst;
    options.max_concurrency = good[i].max_concurrency;
    client = NULL;
    CHECK_STATUS(ml_client_new(&options, &client), ML_OK);
    ml_model_list *models = NULL;
    if (client) CHECK_STATUS(ml_models_list(client, &models), ML_OK);
    ml_model_list_free(models);
    ml_client_free(client);
  }
  CHECK(emulator_stat("copt_traffic", "requests") == (long)(sizeof good / sizeof good[0]));
}

/* ---- Response metadata: request ids ---- */

static void test_request_ids(void) {
  ml_client *client = client_for("id=creqid");
  ml_model_list *models = NULL;
  CHECK_STATUS(ml_models_list(client, &models), ML_OK);
  const char *list_id = ml_model_list_request_id(models);
  CHECK(starts_with(list_id, "req_"));
  ml_chat_request request = {"ids", NULL, NULL};
  ml_stream *stream = NULL;
  CHECK_STATUS(ml_chat_stream(client, &request, &stream), ML_OK);
  const char *stream_id = ml_stream_request_id(stream);
  CHECK(starts_with(stream_id, "req_") && strcmp(stream_id, list_id) != 0);
  char text[8192];
  int pieces;
  CHECK_STATUS(read_all(stream, text, sizeof text, &pieces), ML_DONE);
  CHECK(ml_stream_request_id(stream) == stream_id); /* stable until the free */
  ml_stream_free(stream);
  ml_model_list_free(models);
  struct collected *c = calloc(1, sizeof *c);
  ml_call *call = NULL;
  CHECK_STATUS(ml_chat_start(client, &request, on_text, on_done, c, &call), ML_OK);
  wait_done(c);
  CHECK_STATUS(c->status, ML_OK);
  CHECK(starts_with(ml_call_request_id(call), "req_"));
  ml_call_free(call);
  ml_client_free(client);
  CHECK(ml_model_list_request_id(NULL) == NULL && ml_stream_request_id(NULL) == NULL);
  CHECK(ml_call_request_id(NULL) == NULL);

  /* Failures: a status error's id; none when there was no response; a broken stream's own. */
  CHECK_STATUS(chat_status("fail=404"), ML_ERR_STATUS);
  CHECK(starts_with(ml_last_error_request_id(), "req_"));
  ml_client_options options;
  ml_client_options_init(&options);
  options.api_key = KEY;
  options.base_url = "http://127.0.0.1:1/api";
  options.max_retries = 0;
  CHECK_STATUS(ml_client_new(&options, &client), ML_OK);
  CHECK_STATUS(ml_models_list(client, &models), ML_ERR_CONNECTION);
  CHECK(ml_last_error_request_id() == NULL);
  ml_client_free(client);
  client = client_for("disconnect_after=2");
  CHECK_STATUS(ml_chat_stream(client, &request, &stream), ML_OK);
  CHECK_STATUS(read_all(stream, text, sizeof text, &pieces), ML_ERR_STREAM);
  CHECK(starts_with(ml_last_error_request_id(), "req_"));
  CHECK(ml_last_error_request_id() && strcmp(ml_last_error_request_id(), ml_stream_request_id(stream)) == 0);
  ml_stream_free(stream);
  /* Inside on_done: that call's failure. */
  memset(c, 0, sizeof *c);
  CHECK_STATUS(ml_chat_start(client, &request, on_text, on_done, c, &call), ML_OK);
  wait_done(c);
  CHECK_STATUS(c->status, ML_ERR_STREAM);
  CHECK(starts_with(c->request_id, "req_") && strcmp(c->request_id, ml_call_request_id(call)) == 0);
  ml_call_free(call);
  ml_client_free(client);
  client = client_for("fail=409");
  memset(c, 0, sizeof *c);
  CHECK_STATUS(ml_chat_start(client, &request, on_text, on_done, c, &call), ML_OK);
  wait_done(c);
  CHECK_STATUS(c->status, ML_ERR_STATUS);
  CHECK(starts_with(c->request_id, "req_"));
  CHECK(ml_call_request_id(call) == NULL); /* no successful response */
  ml_call_free(call);
  ml_client_free(client);
  free(c);
}

/* ---- Client options ca_file and proxy, against the TLS emulator ---- */

static void test_ca_file_and_proxy(void) {
  harness_bound("test_ca_file_and_proxy", 60);
  const char *tls_url = getenv("MIXERLEAD_TEST_TLS_BASE_URL"), *ca_file = getenv("MIXERLEAD_TEST_CA_FILE");
  CHECK(tls_url != NULL && ca_file != NULL);
  if (!tls_url || !ca_file) return;
  const char *proxy_variables[] = {"NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"};
  for (size_t i = 0; i < sizeof proxy_variables / sizeof proxy_variables[0]; i++) unsetenv(proxy_variables[i]);
  ml_client_options options;
  ml_client_options_init(&options);
  CHECK(options.ca_file == NULL && options.proxy == NULL);
  options.api_key = KEY;
  options.base_url = tls_url;
  options.max_retries = 0;
  ml_client *client = NULL;
  ml_model_list *models = NULL;
  /* Without ca_file the emulator's certificate is not trusted; with it, it is. */
  CHECK_STATUS(ml_client_new(&options, &client), ML_OK);
  CHECK_STATUS(ml_models_list(client, &models), ML_ERR_CONNECTION);
  CHECK(strstr(ml_last_error_message(), "certificate") != NULL);
  ml_client_free(client);
  options.ca_file = ca_file;
  CHECK_STATUS(ml_client_new(&options, &client), ML_OK);
  CHECK_STATUS(ml_models_list(client, &models), ML_OK);
  CHECK(ml_model_list_len(models) >= 2);
  ml_model_list_free(models);
  ml_client_free(client);
  /* The proxy option is used: a proxy that refuses connections fails the call. */
  options.proxy = "http://127.0.0.1:1";
  CHECK_STATUS(ml_client_new(&options, &client), ML_OK);
  CHECK_STATUS(ml_models_list(client, &models), ML_ERR_CONNECTION);
  ml_client_free(client);

  /* Bad values, at construction, naming the option. */
  struct {
    const char *base_url, *ca_file, *proxy, *named;
  } bad[] = {
      {tls_url, "/nonexistent/ca.pem", NULL, "ca_file"},
      {tls_url, "/dev/null", NULL, "ca_file"},
      {tls_url, NULL, "not a url", "proxy"},
      {"http://127.0.0.1:1/api", NULL, "http://127.0.0.1:3128", "proxy"}, /* plain http never uses one */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    options.base_url = bad[i].base_url;
    options.ca_file = bad[i].ca_file;
    options.proxy = bad[i].proxy;
    client = (ml_client *)0x1;
    CHECK_STATUS(ml_client_new(&options, &client), ML_ERR_CONFIG);
    CHECK(client == NULL);
    CHECK(strstr(ml_last_error_message(), bad[i].named) != NULL);
  }
  options.base_url = tls_url;
  options.ca_file = NULL;
  options.proxy = "caf\xe9";
  CHECK_STATUS(ml_client_new(&options, &client), ML_ERR_INVALID_ARGUMENT);
  CHECK(strstr(ml_last_error_message(), "proxy") != NULL);
  harness_unbound();
}

/* ---- The generic call: the rest of the Workspace API ---- */

/* Workspaces are per key: each run of the suite (dynamic, static, ASan, valgrind) gets its own. */
static ml_client *workspace_client(const char *script) {
  static char key[64];
  snprintf(key, sizeof key, "ml_test_c_workspace_%d", (int)getpid());
  char url[512];
  scenario_url(url, sizeof url, script);
  ml_client_options options;
  ml_client_options_init(&options);
  options.api_key = key;
  options.base_url = url;
  ml_client *client = NULL;
  CHECK_STATUS(ml_client_new(&options, &client), ML_OK);
  return client;
}

/* ml_request with a body; the response's JSON copied into `json` ("" on failure). */
static ml_status request_json(ml_client *client, const char *method, const char *path, const char *body, char *json,
                              size_t size) {
  ml_response *response = NULL;
  ml_status status = ml_request(client, method, path, body, NULL, &response);
  snprintf(json, size, "%s", status == ML_OK ? ml_response_json(response) : "");
  if (status == ML_OK) CHECK(starts_with(ml_response_request_id(response), "req_"));
  ml_response_free(response);
  return status;
}

/* The string value of "key" in `json` into `out` ("" if absent). */
static void json_string(const char *json, const char *key, char *out, size_t size) {
  char pattern[128];
  snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
  const char *at = strstr(json, pattern);
  out[0] = 0;
  if (!at) return;
  at += strlen(pattern);
  const char *end = strchr(at, '"');
  if (end) snprintf(out, size, "%.*s", (int)(end - at), at);
}

static void test_request_knowledge(void) {
  harness_bound("test_request_knowledge", 30);
  ml_client *client = workspace_client("id=creq_kb");
  char json[8192], id[64], path[128];
  const char *body = "{\"text\": \"Notes from the C suite: caf\xc3\xa9\", \"name\": \"c-notes\"}";
  CHECK_STATUS(request_json(client, "POST", "/knowledge", body, json, sizeof json), ML_OK);
  json_string(json, "id", id, sizeof id);
  CHECK(starts_with(id, "kb_"));
  CHECK(strstr(json, "\"status\":\"indexing\"") != NULL);
  CHECK_STATUS(request_json(client, "GET", "/knowledge", NULL, json, sizeof json), ML_OK);
  CHECK(strstr(json, "\"sources\":[") != NULL && strstr(json, id) != NULL && strstr(json, "c-notes") != NULL);
  /* The same text again: 409, with the service's message. */
  ml_response *response = (ml_response *)0x1;
  CHECK_STATUS(ml_request(client, "POST", "/knowledge", body, NULL, &response), ML_ERR_STATUS);
  CHECK(response == NULL);
  CHECK(ml_last_error_status_code() == 409);
  CHECK(strstr(ml_last_error_message(), "already exists") != NULL);
  CHECK(starts_with(ml_last_error_request_id(), "req_"));
  /* PATCH, DELETE (any case), then it is gone; a second DELETE is a 404. */
  snprintf(path, sizeof path, "/knowledge/%s", id);
  CHECK_STATUS(request_json(client, "PATCH", path, "{\"enabled\": false}", json, sizeof json), ML_OK);
  CHECK(strstr(json, "\"enabled\":0") != NULL);
  CHECK_STATUS(request_json(client, "delete", path, NULL, json, sizeof json), ML_OK);
  CHECK(strcmp(json, "{}") == 0);
  CHECK_STATUS(request_json(client, "GET", "/knowledge", NULL, json, sizeof json), ML_OK);
  CHECK(strstr(json, id) == NULL);
  CHECK_STATUS(request_json(client, "DELETE", path, NULL, json, sizeof json), ML_ERR_STATUS);
  CHECK(ml_last_error_status_code() == 404 && strstr(ml_last_error_message(), id) != NULL);
  CHECK(emulator_stat("creq_kb", "requests") == 7);
  ml_client_free(client);
  harness_unbound();
}

static void test_request_skills_and_agents(void) {
  harness_bound("test_request_skills_and_agents", 30);
  ml_client *client = workspace_client("id=creq_skills");
  char json[8192];
  CHECK_STATUS(request_json(client, "GET", "/skills", NULL, json, sizeof json), ML_OK);
  CHECK(strstr(json, "\"id\":\"summarize\"") != NULL);
  const char *run = "{\"skillId\": \"outline\", \"vars\": {\"topic\": \"C bindings\", \"depth\": 2}}";
  CHECK_STATUS(request_json(client, "POST", "/skills/exec", run, json, sizeof json), ML_OK);
  char output[1024];
  json_string(json, "output", output, sizeof output);
  CHECK(starts_with(output, "# Outline"));
  CHECK(strstr(output, "**topic**: C bindings") != NULL && strstr(output, "**depth**: 2") != NULL);
  CHECK_STATUS(request_json(client, "POST", "/skills/exec", "{\"skillId\": \"nope\"}", json, sizeof json),
               ML_ERR_STATUS);
  CHECK(ml_last_error_status_code() == 404 && strstr(ml_last_error_message(), "nope") != NULL);
  ml_client_free(client);

  /* Agent runs over the daily quota: 403, never retried. */
  client = workspace_client("id=creq_agents");
  char agent[64], path[128];
  CHECK_STATUS(request_json(client, "POST", "/agents", "{\"name\": \"c-agent\", \"type\": \"research\", \"config\": {}}",
                            json, sizeof json),
               ML_OK);
  json_string(json, "id", agent, sizeof agent);
  CHECK(agent[0] != 0);
  CHECK_STATUS(request_json(client, "POST", "/agents", "{\"name\": \"c-agent\", \"type\": \"research\"}", json, sizeof json),
               ML_ERR_STATUS);
  CHECK(ml_last_error_status_code() == 409 && strstr(ml_last_error_message(), "c-agent") != NULL);
  snprintf(path, sizeof path, "/agents/%s/run", agent);
  int ok = 0;
  ml_status status;
  while ((status = request_json(client, "POST", path, NULL, json, sizeof json)) == ML_OK && ok < 50) ok++;
  CHECK(ok > 0);
  CHECK_STATUS(status, ML_ERR_STATUS);
  CHECK(ml_last_error_status_code() == 403 && strstr(ml_last_error_message(), "quota") != NULL);
  long requests = emulator_stat("creq_agents", "requests");
  CHECK(requests == 2 + ok + 1);
  ml_client_free(client);
  harness_unbound();
}

static void test_request_errors_and_retries(void) {
  harness_bound("test_request_errors_and_retries", 30);
  char json[1024];
  /* A 413 (here scripted) with the service's message. */
  ml_client *client = workspace_client("id=creq_413;fail=413;error_text=over%20the%20storage%20quota");
  CHECK_STATUS(request_json(client, "POST", "/knowledge", "{\"text\": \"big\"}", json, sizeof json), ML_ERR_STATUS);
  CHECK(ml_last_error_status_code() == 413 && strstr(ml_last_error_message(), "over the storage quota") != NULL);
  ml_client_free(client);
  /* A POST is never sent twice after a 503; a GET is retried. */
  client = workspace_client("id=creq_post;fail=503;times=1;retry_after=0.01");
  CHECK_STATUS(request_json(client, "POST", "/knowledge", "{\"text\": \"once\"}", json, sizeof json), ML_ERR_STATUS);
  CHECK(ml_last_error_status_code() == 503);
  CHECK(emulator_stat("creq_post", "requests") == 1);
  ml_client_free(client);
  client = workspace_client("id=creq_get;fail=503;times=1;retry_after=0.01");
  CHECK_STATUS(request_json(client, "GET", "/knowledge", NULL, json, sizeof json), ML_OK);
  CHECK(strstr(json, "\"sources\"") != NULL);
  CHECK(emulator_stat("creq_get", "requests") == 2);
  ml_client_free(client);
  /* Per-request options: one attempt, an extra header. */
  client = workspace_client("id=creq_options;fail=503;times=1;retry_after=0.01");
  const char *headers[] = {"X-Trace", "trace-request"};
  ml_request_options options;
  ml_request_options_init(&options);
  options.max_retries = 0;
  options.headers = headers;
  options.header_count = 1;
  ml_response *response = NULL;
  CHECK_STATUS(ml_request(client, "GET", "/skills", NULL, &options, &response), ML_ERR_STATUS);
  CHECK(emulator_stat("creq_options", "requests") == 1);
  CHECK(emulator_saw_header("creq_options", "x-trace", "trace-request"));
  CHECK_STATUS(ml_request(client, "GET", "/skills", NULL, &options, &response), ML_OK);
  CHECK(strstr(ml_response_json(response), "\"skills\"") != NULL);
  ml_response_free(response);
  ml_client_free(client);

  /* Bad arguments fail before anything is sent. */
  client = workspace_client("id=creq_bad");
  struct {
    const char *method, *path, *body, *named;
  } bad[] = {
      {"POST", "/knowledge", "{\"text\": ", "not valid JSON"},
      {"POST", "/knowledge", "", "not valid JSON"},
      {"POST", "/knowledge", "{\"text\": \"caf\xe9\"}", "UTF-8"},
      {"NOT A METHOD", "/knowledge", NULL, "method"},
      {"", "/knowledge", NULL, "method"},
      {NULL, "/knowledge", NULL, "method"},
      {"GET", NULL, NULL, "path"},
      {"GET", "knowledge", NULL, "path"},
      {"GET", "/a/../b", NULL, "path"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    response = (ml_response *)0x1;
    CHECK_STATUS(ml_request(client, bad[i].method, bad[i].path, bad[i].body, NULL, &response), ML_ERR_INVALID_ARGUMENT);
    CHECK(response == NULL);
    if (!strstr(ml_last_error_message(), bad[i].named)) fprintf(stderr, "case %zu: %s\n", i, ml_last_error_message());
    CHECK(strstr(ml_last_error_message(), bad[i].named) != NULL);
  }
  const char *authorization[] = {"Authorization", "Bearer ml_other"};
  options.headers = authorization;
  CHECK_STATUS(ml_request(client, "GET", "/skills", NULL, &options, &response), ML_ERR_CONFIG);
  CHECK(emulator_stat("creq_bad", "requests") <= 0);
  CHECK_STATUS(ml_request(NULL, "GET", "/skills", NULL, NULL, &response), ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(ml_request(client, "GET", "/skills", NULL, NULL, NULL), ML_ERR_INVALID_ARGUMENT);
  CHECK(ml_response_json(NULL) == NULL && ml_response_request_id(NULL) == NULL);
  ml_response_free(NULL);
  ml_client_free(client);
  harness_unbound();
}

/* ---- The header's version macros and status names ---- */

#ifndef ML_API
#error "mixerlead.h defines ML_API"
#endif
#if !defined(ML_VERSION_MAJOR) || !defined(ML_VERSION_MINOR) || !defined(ML_VERSION_PATCH)
#error "mixerlead.h defines ML_VERSION_MAJOR, ML_VERSION_MINOR and ML_VERSION_PATCH"
#endif
#if ML_VERSION_MAJOR < 0 || ML_VERSION_MINOR < 0 || ML_VERSION_PATCH < 0
#error "the version macros are numbers usable in #if"
#endif

static void test_version_macros_and_status_names(void) {
  char version[64];
  snprintf(version, sizeof version, "%d.%d.%d", ML_VERSION_MAJOR, ML_VERSION_MINOR, ML_VERSION_PATCH);
  CHECK(strncmp(ml_version(), version, strlen(version)) == 0); /* the header matches the library */
  CHECK(strcmp(ml_version(), ML_VERSION_STRING) == 0);
  struct {
    ml_status status;
    const char *name;
  } names[] = {
      {ML_OK, "ML_OK"},
      {ML_DONE, "ML_DONE"},
      {ML_ERR_INVALID_ARGUMENT, "ML_ERR_INVALID_ARGUMENT"},
      {ML_ERR_CONFIG, "ML_ERR_CONFIG"},
      {ML_ERR_CONNECTION, "ML_ERR_CONNECTION"},
      {ML_ERR_TIMEOUT, "ML_ERR_TIMEOUT"},
      {ML_ERR_STATUS, "ML_ERR_STATUS"},
      {ML_ERR_STREAM, "ML_ERR_STREAM"},
      {ML_ERR_DECODE, "ML_ERR_DECODE"},
      {ML_ERR_CANCELLED, "ML_ERR_CANCELLED"},
      {ML_ERR_INTERNAL, "ML_ERR_INTERNAL"},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const char *name = ml_status_str(names[i].status);
    if (!name || strcmp(name, names[i].name) != 0) fprintf(stderr, "ml_status_str(%d) is %s\n", names[i].status, name);
    CHECK(name != NULL && strcmp(name, names[i].name) == 0);
    CHECK(ml_status_str(names[i].status) == name); /* static */
  }
  /* C lets any int through an enum: a value that is no status has a name too. */
  CHECK(strcmp(ml_status_str((ml_status)42), "ML_UNKNOWN") == 0);
  CHECK(strcmp(ml_status_str((ml_status)-100), "ML_UNKNOWN") == 0);
  CHECK(strcmp(ml_status_str((ml_status)2), "ML_UNKNOWN") == 0);
  /* In a message, the way a program would log a failure. */
  ml_client *client = client_for("fail=403");
  ml_model_list *models = NULL;
  ml_status status = ml_models_list(client, &models);
  CHECK(strcmp(ml_status_str(status), "ML_ERR_STATUS") == 0);
  ml_client_free(client);
}

/* ---- ml_chat_start checks the request before it starts a call ---- */

static void test_chat_start_checks_the_request_first(void) {
  harness_bound("test_chat_start_checks_the_request_first", 30);
  ml_client *client = client_for("id=cstart_checks");
  struct collected *c = calloc(1, sizeof *c);
  ml_chat_request bad[] = {
      {NULL, NULL, NULL}, {"", NULL, NULL}, {" \n\t", NULL, NULL}, {"caf\xe9", NULL, NULL},
      {"x", "", NULL},    {"x", NULL, ""},  {"x", "\xff", NULL},   {"x", NULL, "conv\xff"},
  };
  const char *named[] = {"message", "message", "message", "UTF-8", "model", "conversation_id", "UTF-8", "UTF-8"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ml_call *call = (ml_call *)0x1;
    CHECK_STATUS(ml_chat_start(client, &bad[i], on_text, on_done, c, &call), ML_ERR_INVALID_ARGUMENT);
    CHECK(call == NULL);
    if (!strstr(ml_last_error_message(), named[i])) fprintf(stderr, "case %zu: %s\n", i, ml_last_error_message());
    CHECK(strstr(ml_last_error_message(), named[i]) != NULL);
  }
  /* Bad options too: returned here, not through on_done. */
  ml_chat_request request = {"x", NULL, NULL};
  const char *authorization[] = {"Authorization", "Bearer ml_other"};
  ml_request_options options;
  ml_request_options_init(&options);
  options.headers = authorization;
  options.header_count = 1;
  ml_call *call = (ml_call *)0x1;
  CHECK_STATUS(ml_chat_start_with(client, &request, &options, on_text, on_done, c, &call), ML_ERR_CONFIG);
  CHECK(call == NULL && strstr(ml_last_error_message(), "Authorization") != NULL);
  ml_request_options_init(&options);
  options.timeout = NAN;
  CHECK_STATUS(ml_chat_start_with(client, &request, &options, on_text, on_done, c, &call), ML_ERR_INVALID_ARGUMENT);
  CHECK(call == NULL && strstr(ml_last_error_message(), "timeout") != NULL);
  usleep(50000);
  CHECK(atomic_load(&c->done_calls) == 0); /* no call was started */
  CHECK(emulator_stat("cstart_checks", "requests") <= 0);
  /* A good request still goes. */
  options.timeout = 30;
  CHECK_STATUS(ml_chat_start_with(client, &request, &options, on_text, on_done, c, &call), ML_OK);
  wait_done(c);
  CHECK_STATUS(c->status, ML_OK);
  CHECK(atomic_load(&c->done_calls) == 1 && c->pieces > 0);
  ml_call_free(call);
  CHECK(emulator_stat("cstart_checks", "requests") == 1);
  free(c);
  ml_client_free(client);
  harness_unbound();
}

static ml_client *shared_client;

static void *stream_in_thread(void *arg) {
  char text[8192];
  int pieces = 0;
  ml_chat_request request = {"threads", NULL, NULL};
  ml_stream *stream = NULL;
  ml_status status = ml_chat_stream(shared_client, &request, &stream);
  if (status == ML_OK) status = read_all(stream, text, sizeof text, &pieces);
  ml_stream_free(stream);
  *(int *)arg = (status == ML_DONE && pieces == 200) ? 1 : 0;
  return NULL;
}

static void test_eight_threads_share_a_client(void) {
  shared_client = client_for("pieces=200;delay_ms=2");
  pthread_t threads[8];
  int ok[8] = {0};
  for (int i = 0; i < 8; i++) pthread_create(&threads[i], NULL, stream_in_thread, &ok[i]);
  for (int i = 0; i < 8; i++) pthread_join(threads[i], NULL);
  for (int i = 0; i < 8; i++) CHECK(ok[i] == 1);
  ml_client_free(shared_client);
}

/* ---- Calling the library from inside callbacks (issue #15, item 4) ---- */

#define INSIDE_MESSAGE "cannot be called from inside a mixerlead callback"

struct inside {
  ml_client *client;
  ml_call *self;   /* this call (ml_chat_start's out); on_text frees it */
  ml_call *other;  /* another running call, freed from this call's on_text */
  ml_stream *stream; /* a stream of the main thread, pulled and freed in on_text */
  atomic_int texts;
  atomic_int texts_after_free;
  atomic_int freed;
  ml_status chat_stream_status, models_status, next_status, request_status;
  bool messages_say_why;
  atomic_int done_calls;
  ml_status done_status;
  ml_status done_chat_stream_status;
};

static int inside_on_text(const char *text, size_t len, void *user_data) {
  struct inside *c = user_data;
  (void)text;
  (void)len;
  atomic_fetch_add(&c->texts, 1);
  if (atomic_load(&c->freed)) {
    atomic_fetch_add(&c->texts_after_free, 1);
    return 0;
  }
  ml_chat_request request = {"from a callback", NULL, NULL};
  ml_stream *stream = NULL;
  c->chat_stream_status = ml_chat_stream(c->client, &request, &stream);
  c->messages_say_why = strstr(ml_last_error_message(), INSIDE_MESSAGE) != NULL;
  ml_stream_free(stream);
  ml_model_list *models = NULL;
  c->models_status = ml_models_list(c->client, &models);
  c->messages_say_why &= strstr(ml_last_error_message(), INSIDE_MESSAGE) != NULL;
  ml_model_list_free(models);
  ml_response *response = NULL;
  c->request_status = ml_request(c->client, "GET", "/skills", NULL, NULL, &response);
  c->messages_say_why &= strstr(ml_last_error_message(), INSIDE_MESSAGE) != NULL;
  ml_response_free(response);
  const char *piece;
  size_t piece_len;
  c->next_status = ml_stream_next(c->stream, &piece, &piece_len);
  c->messages_say_why &= strstr(ml_last_error_message(), INSIDE_MESSAGE) != NULL;
  ml_stream_free(c->stream); /* does not block: fine here */
  ml_call_free(c->other); /* another call: cancels it, does not wait for it */
  ml_call_free(c->self);  /* this very call: cancels it and returns */
  atomic_store(&c->freed, 1);
  return 0;
}

static void inside_on_done(ml_status status, const char *conversation_id, void *user_data) {
  struct inside *c = user_data;
  (void)conversation_id;
  c->done_status = status;
  ml_chat_request request = {"from on_done", NULL, NULL};
  ml_stream *stream = NULL;
  c->done_chat_stream_status = ml_chat_stream(c->client, &request, &stream);
  ml_stream_free(stream);
  atomic_fetch_add(&c->done_calls, 1);
}

static void wait_count(atomic_int *counter, int count, double within) {
  double deadline = now_seconds() + within * time_scale();
  while (atomic_load(counter) < count && now_seconds() < deadline) usleep(2000);
}

static void test_calls_from_inside_callbacks(void) {
  harness_bound("test_calls_from_inside_callbacks", 30);
  ml_client *client = client_for("id=cinside;pieces=1000;delay_ms=10");
  struct inside *c = calloc(1, sizeof *c), *o = calloc(1, sizeof *o);
  c->client = o->client = client;
  ml_chat_request request = {"x", NULL, NULL};
  CHECK_STATUS(ml_chat_stream(client, &request, &c->stream), ML_OK);
  o->freed = 1; /* the other call only counts its pieces */
  CHECK_STATUS(ml_chat_start(client, &request, inside_on_text, inside_on_done, o, &c->other), ML_OK);
  wait_count(&o->texts, 1, 5);
  CHECK_STATUS(ml_chat_start(client, &request, inside_on_text, inside_on_done, c, &c->self), ML_OK);
  wait_count(&c->done_calls, 1, 10);
  wait_count(&o->done_calls, 1, 10);
  CHECK(atomic_load(&c->freed) == 1);
  CHECK_STATUS(c->chat_stream_status, ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(c->models_status, ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(c->request_status, ML_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(c->next_status, ML_ERR_INVALID_ARGUMENT);
  CHECK(c->messages_say_why);
  /* The call freed from its own on_text: no piece after, on_done once, cancelled. */
  CHECK(atomic_load(&c->done_calls) == 1);
  CHECK_STATUS(c->done_status, ML_ERR_CANCELLED);
  CHECK(atomic_load(&c->texts) == 1 && atomic_load(&c->texts_after_free) == 0);
  CHECK_STATUS(c->done_chat_stream_status, ML_ERR_INVALID_ARGUMENT);
  /* The call freed from another call's on_text: cancelled, on_done once. */
  CHECK(atomic_load(&o->done_calls) == 1);
  CHECK_STATUS(o->done_status, ML_ERR_CANCELLED);
  CHECK(wait_disconnects("cinside", 3, 2.0) == 3); /* both calls' requests and the stream's */
  ml_client_free(client);
  usleep(50000); /* both calls' states go when their tasks end */
  free(c);
  free(o);
  harness_unbound();
}

/* ---- *out is set before any callback can run (item 6) ---- */

struct early {
  ml_call *call; /* ml_chat_start's out */
  atomic_int done;
  atomic_int out_unset;
};

static int early_on_text(const char *text, size_t len, void *user_data) {
  (void)text;
  (void)len;
  (void)user_data;
  return 0;
}

static void early_on_done(ml_status status, const char *conversation_id, void *user_data) {
  struct early *e = user_data;
  (void)status;
  (void)conversation_id;
  if (__atomic_load_n(&e->call, __ATOMIC_ACQUIRE) == NULL) atomic_fetch_add(&e->out_unset, 1);
  atomic_store(&e->done, 1);
}

struct early_run {
  ml_client *client;
  const char *message;
  int calls;
  int out_unset;
  int unfinished;
};

static void *early_calls(void *arg) {
  struct early_run *run = arg;
  ml_chat_request request = {run->message, NULL, NULL};
  for (int i = 0; i < run->calls; i++) {
    struct early *e = calloc(1, sizeof *e);
    ml_status started = ml_chat_start(run->client, &request, early_on_text, early_on_done, e, &e->call);
    if (started != ML_OK) {
      fprintf(stderr, "ml_chat_start: %s: %s\n", ml_status_str(started), ml_last_error_message());
      run->unfinished++;
      free(e);
      continue;
    }
    double deadline = now_seconds() + 5 * time_scale();
    while (!atomic_load(&e->done) && now_seconds() < deadline) sched_yield();
    if (!atomic_load(&e->done)) run->unfinished++;
    run->out_unset += atomic_load(&e->out_unset);
    ml_call_free(e->call);
    free(e);
  }
  return NULL;
}

static void test_out_is_set_before_callbacks(void) {
  harness_bound("test_out_is_set_before_callbacks", 60);
  ml_client_options options;
  ml_client_options_init(&options);
  options.api_key = KEY;
  options.base_url = "http://127.0.0.1:1/api"; /* refused at once */
  options.max_retries = 0;
  ml_client *refused = NULL;
  CHECK_STATUS(ml_client_new(&options, &refused), ML_OK);
  ml_client *client = client_for("fail=400");
  int calls = getenv("MIXERLEAD_UNDER_VALGRIND") ? 50 : 1000;
  /* A refused connection fails the call almost at once (a request that cannot be sent at all
   * fails ml_chat_start itself, before any call exists); a 400 a little later. */
  struct early_run runs[4] = {{refused, "x", calls / 2, 0, 0}, {refused, "x", calls / 2, 0, 0},
                              {client, "x", calls / 4, 0, 0}, {client, "x", calls / 4, 0, 0}};
  pthread_t threads[4];
  for (int i = 0; i < 4; i++) pthread_create(&threads[i], NULL, early_calls, &runs[i]);
  for (int i = 0; i < 4; i++) pthread_join(threads[i], NULL);
  int out_unset = 0, unfinished = 0;
  for (int i = 0; i < 4; i++) out_unset += runs[i].out_unset, unfinished += runs[i].unfinished;
  if (out_unset) fprintf(stderr, "on_done ran before *out was set in %d calls\n", out_unset);
  CHECK(out_unset == 0);
  CHECK(unfinished == 0);
  ml_client_free(client);
  ml_client_free(refused);
  harness_unbound();
}

/* ---- No on_text after ml_call_cancel returns; on_done then says cancelled (item 11) ---- */

struct slow_reader {
  atomic_int texts;
  atomic_int in_text;
  atomic_int cancelling; /* set just before the main thread calls ml_call_cancel */
  atomic_int done_calls;
  ml_status done_status;
};

static int slow_on_text(const char *text, size_t len, void *user_data) {
  struct slow_reader *r = user_data;
  (void)text;
  (void)len;
  atomic_store(&r->in_text, 1);
  atomic_fetch_add(&r->texts, 1);
  usleep(300);
  atomic_store(&r->in_text, 0);
  return 0;
}

/* The first piece waits until the main thread is cancelling, then 50 ms more. */
static int held_on_text(const char *text, size_t len, void *user_data) {
  struct slow_reader *r = user_data;
  (void)text;
  (void)len;
  if (atomic_fetch_add(&r->texts, 1) == 0) {
    double deadline = now_seconds() + 10 * time_scale();
    while (!atomic_load(&r->cancelling) && now_seconds() < deadline) usleep(1000);
    usleep(50000);
  }
  return 0;
}

static void slow_on_done(ml_status status, const char *conversation_id, void *user_data) {
  struct slow_reader *r = user_data;
  (void)conversation_id;
  r->done_status = status;
  atomic_fetch_add(&r->done_calls, 1);
}

static void test_no_on_text_after_cancel_returns(void) {
  harness_bound("test_no_on_text_after_cancel_returns", 60);
  /* Pieces arrive far faster than on_text takes them: the library holds a backlog. */
  ml_client *client = client_for("pieces=3000");
  ml_chat_request request = {"x", NULL, NULL};
  int rounds = getenv("MIXERLEAD_UNDER_VALGRIND") ? 2 : 10;
  int late_texts = 0, busy_at_return = 0, not_cancelled = 0, done_twice = 0;
  for (int round = 0; round < rounds; round++) {
    struct slow_reader *r = calloc(1, sizeof *r);
    ml_call *call = NULL;
    CHECK_STATUS(ml_chat_start(client, &request, slow_on_text, slow_on_done, r, &call), ML_OK);
    wait_count(&r->texts, 5 + round * 7, 10);
    ml_call_cancel(call);
    int texts_at_return = atomic_load(&r->texts);
    busy_at_return += atomic_load(&r->in_text);
    wait_count(&r->done_calls, 1, 10);
    usleep(20000);
    late_texts += atomic_load(&r->texts) - texts_at_return;
    not_cancelled += r->done_status != ML_ERR_CANCELLED;
    done_twice += atomic_load(&r->done_calls) != 1;
    ml_call_free(call);
    free(r);
  }
  if (late_texts) fprintf(stderr, "%d on_text calls ran after ml_call_cancel returned\n", late_texts);
  CHECK(late_texts == 0);
  CHECK(busy_at_return == 0);
  CHECK(not_cancelled == 0);
  CHECK(done_twice == 0);

  /* A short reply decoded whole before the cancel: the first on_text holds the call until the
   * main thread is about to cancel (and a little longer, so that the cancel is under way);
   * the pieces left and the end must then not be reported. */
  ml_client_free(client);
  client = client_for("pieces=20");
  for (int round = 0; round < rounds; round++) {
    struct slow_reader *r = calloc(1, sizeof *r);
    ml_call *call = NULL;
    CHECK_STATUS(ml_chat_start(client, &request, held_on_text, slow_on_done, r, &call), ML_OK);
    wait_count(&r->texts, 1, 10);
    atomic_store(&r->cancelling, 1);
    ml_call_cancel(call);
    int texts_at_return = atomic_load(&r->texts);
    wait_count(&r->done_calls, 1, 10);
    CHECK(texts_at_return == 1);
    CHECK(atomic_load(&r->texts) == texts_at_return);
    CHECK_STATUS(r->done_status, ML_ERR_CANCELLED);
    ml_call_free(call);
    free(r);
  }
  ml_client_free(client);
  harness_unbound();
}

#ifndef _WIN32 /* no fork() on Windows */
/* ---- Objects inherited across fork() (item 7) ---- */

static void test_fork_with_open_objects(void) {
  harness_bound("test_fork_with_open_objects", 30);
  ml_client *client = client_for("id=cfork");
  ml_client *slow = client_for("id=cforkslow;pieces=300;delay_ms=5");
  ml_client *stalled = client_for("id=cforkstall;stall_after=1");
  ml_chat_request request = {"before fork", NULL, NULL};
  char text[16384];
  int pieces;
  ml_stream *warm = NULL; /* leaves a pooled connection behind */
  CHECK_STATUS(ml_chat_stream(client, &request, &warm), ML_OK);
  CHECK_STATUS(read_all(warm, text, sizeof text, &pieces), ML_DONE);
  ml_stream_free(warm);
  ml_stream *stream = NULL;
  CHECK_STATUS(ml_chat_stream(slow, &request, &stream), ML_OK);
  const char *piece;
  size_t len;
  CHECK_STATUS(ml_stream_next(stream, &piece, &len), ML_OK);
  struct collected *c = calloc(1, sizeof *c);
  ml_call *call = NULL;
  CHECK_STATUS(ml_chat_start(stalled, &request, on_text, on_done, c, &call), ML_OK);
  double deadline = now_seconds() + 5 * time_scale();
  while (c->pieces < 1 && now_seconds() < deadline) usleep(2000);
  int verdict = -1;
  pid_t child = harness_fork(&verdict);
  if (child == 0) {
    harness_bound("test_fork_with_open_objects (the child)", 10);
    /* The parent's objects fail at once or are let go, never hang. */
    CHECK_STATUS(ml_stream_next(stream, &piece, &len), ML_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ml_last_error_message(), "parent process") != NULL);
    const char *id = ml_stream_conversation_id(stream);
    CHECK(id == NULL || strncmp(id, "conv_", 5) == 0);
    ml_call_cancel(call);
    ml_call_free(call);
    ml_stream_free(stream);
    /* An inherited client keeps working, pulled and pushed. */
    ml_chat_request in_child = {"in the child", NULL, NULL};
    ml_stream *mine = NULL;
    CHECK_STATUS(ml_chat_stream(client, &in_child, &mine), ML_OK);
    CHECK_STATUS(read_all(mine, text, sizeof text, &pieces), ML_DONE);
    CHECK(strstr(text, "in the child") != NULL);
    ml_stream_free(mine);
    struct collected *d = calloc(1, sizeof *d);
    ml_call *pushed = NULL;
    CHECK_STATUS(ml_chat_start(client, &in_child, on_text, on_done, d, &pushed), ML_OK);
    wait_done(d);
    CHECK_STATUS(d->status, ML_OK);
    CHECK(strstr(d->text, "in the child") != NULL);
    ml_call_free(pushed);
    free(d);
    ml_client_free(client);
    ml_client_free(slow);
    ml_client_free(stalled);
    harness_child_exit();
  }
  CHECK(child > 0);
  CHECK(harness_child_passed(child, verdict));
  /* The parent's objects are untouched by what the child did. */
  int rest = 0;
  CHECK_STATUS(read_all(stream, text, sizeof text, &rest), ML_DONE);
  CHECK(rest == 299);
  ml_stream_free(stream);
  CHECK(c->done_calls == 0);
  ml_call_free(call);
  CHECK_STATUS(c->status, ML_ERR_CANCELLED);
  free(c);
  ml_chat_request after = {"parent after fork", NULL, NULL};
  CHECK_STATUS(ml_chat_stream(client, &after, &stream), ML_OK);
  CHECK_STATUS(read_all(stream, text, sizeof text, &pieces), ML_DONE);
  CHECK(strstr(text, "parent after fork") != NULL);
  ml_stream_free(stream);
  ml_client_free(client);
  ml_client_free(slow);
  ml_client_free(stalled);
  harness_unbound();
}

/* ---- A runtime that cannot start is an error, never an abort (item 9) ---- */

static void test_runtime_that_cannot_start(void) {
  if (getenv("MIXERLEAD_UNDER_VALGRIND")) return; /* valgrind keeps RLIMIT_NOFILE for itself */
  harness_bound("test_runtime_that_cannot_start", 30);
  ml_client *client = client_for("pieces=50;delay_ms=5");
  ml_chat_request request = {"x", NULL, NULL};
  ml_stream *stream = NULL;
  CHECK_STATUS(ml_chat_stream(client, &request, &stream), ML_OK);
  int verdict = -1;
  pid_t child = harness_fork(&verdict);
  if (child == 0) {
    harness_bound("test_runtime_that_cannot_start (the child)", 10);
    /* No file descriptor left: the child's runtime (an epoll instance) cannot be built. */
    int next_fd = dup(0);
    close(next_fd);
    struct rlimit limit = {(rlim_t)next_fd, (rlim_t)next_fd};
    CHECK(setrlimit(RLIMIT_NOFILE, &limit) == 0);
    ml_stream_free(stream);
    ml_stream *mine = NULL;
    ml_status status = ml_chat_stream(client, &request, &mine);
    CHECK(status < 0 && mine == NULL);
    CHECK(strstr(ml_last_error_message(), "runtime") != NULL);
    ml_model_list *models = NULL;
    CHECK(ml_models_list(client, &models) < 0 && models == NULL);
    ml_call *call = NULL;
    CHECK(ml_chat_start(client, &request, on_text, on_done, NULL, &call) < 0 && call == NULL);
    ml_client_free(client);
    harness_child_exit();
  }
  CHECK(child > 0);
  CHECK(harness_child_passed(child, verdict));
  char text[8192];
  int pieces;
  CHECK_STATUS(read_all(stream, text, sizeof text, &pieces), ML_DONE);
  ml_stream_free(stream);
  ml_client_free(client);
  harness_unbound();
}

#endif

/* ---- ml_stream_conversation_id from another thread while one thread pulls (item 10) ---- */

struct id_reader {
  ml_stream *stream;
  atomic_int stop;
  int reads, nulls, wrong;
};

static void *read_ids(void *arg) {
  struct id_reader *r = arg;
  const char *first = NULL;
  while (!atomic_load(&r->stop)) {
    const char *id = ml_stream_conversation_id(r->stream);
    r->reads++;
    if (!id) {
      r->nulls++;
    } else if (!first) {
      first = id;
      if (strncmp(id, "conv_", 5) != 0) r->wrong++;
    } else if (id != first && strcmp(id, first) != 0) {
      r->wrong++;
    }
    /* A pause between reads: a reader spinning flat out starves the puller under valgrind, which
     * runs one thread at a time (CI saw the test hang there). */
    struct timespec pause = {0, 50 * 1000};
    nanosleep(&pause, NULL);
  }
  return NULL;
}

static void test_conversation_id_from_another_thread(void) {
  harness_bound("test_conversation_id_from_another_thread", 30);
  const char *scripts[] = {"pieces=500;delay_ms=1", "pieces=500;delay_ms=1;conv_in=payload;format=sse"};
  for (int i = 0; i < 2; i++) {
    ml_client *client = client_for(scripts[i]);
    ml_chat_request request = {"x", NULL, NULL};
    struct id_reader r = {0};
    CHECK_STATUS(ml_chat_stream(client, &request, &r.stream), ML_OK);
    pthread_t reader;
    pthread_create(&reader, NULL, read_ids, &r);
    char text[16384];
    int pieces;
    CHECK_STATUS(read_all(r.stream, text, sizeof text, &pieces), ML_DONE);
    atomic_store(&r.stop, 1);
    pthread_join(reader, NULL);
    CHECK(pieces == 500);
    CHECK(r.reads > 0 && r.wrong == 0);
    const char *id = ml_stream_conversation_id(r.stream);
    CHECK(id != NULL && strncmp(id, "conv_", 5) == 0);
    ml_stream_free(r.stream);
    ml_client_free(client);
  }
  harness_unbound();
}

int main(void) {
  harness_suite = "c";
  RUN(test_options_models_and_pull_stream);
  RUN(test_client_from_environment);
  RUN(test_callback_streaming);
  RUN(test_callback_cancellation);
  RUN(test_stream_free_mid_stream_aborts);
  RUN(test_every_status);
  RUN(test_last_error_is_per_thread);
  RUN(test_nulls_and_bad_input);
  RUN(test_request_options_override_the_clients);
  RUN(test_bad_request_options);
  RUN(test_request_options_size);
  RUN(test_client_options_init);
  RUN(test_client_options_size);
  RUN(test_traffic_control_options);
  RUN(test_record_option);
  RUN(test_request_ids);
  RUN(test_ca_file_and_proxy);
  RUN(test_request_knowledge);
  RUN(test_request_skills_and_agents);
  RUN(test_request_errors_and_retries);
  RUN(test_version_macros_and_status_names);
  RUN(test_chat_start_checks_the_request_first);
  RUN(test_eight_threads_share_a_client);
  RUN(test_calls_from_inside_callbacks);
  RUN(test_out_is_set_before_callbacks);
  RUN(test_no_on_text_after_cancel_returns);
  RUN(test_conversation_id_from_another_thread);
#ifndef _WIN32
  RUN(test_fork_with_open_objects);
  RUN(test_runtime_that_cannot_start);
#endif
  return harness_summary("c");
}
