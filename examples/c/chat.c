#define _DEFAULT_SOURCE /* usleep */
/* Streams a reply with the pull API, then the same with callbacks.
 * Build: cc examples/c/chat.c $(pkg-config --cflags --libs mixerlead) -o chat
 * Run:   MIXERLEAD_API_KEY=… ./chat "Hi" */
#include <stdio.h>
#include <unistd.h>

#include "mixerlead.h"

static int print_piece(const char *text, size_t len, void *user_data) {
  (void)user_data;
  fwrite(text, 1, len, stdout);
  fflush(stdout);
  return 0; /* non-zero would cancel */
}

static void finished(ml_status status, const char *conversation_id, void *user_data) {
  if (status != ML_OK) fprintf(stderr, "\nfailed: %s\n", ml_last_error_message());
  else printf("\n(conversation %s)\n", conversation_id ? conversation_id : "-");
  *(volatile int *)user_data = 1;
}

int main(int argc, char **argv) {
  ml_client *client = NULL;
  if (ml_client_new(NULL, &client) != ML_OK) { /* NULL options: MIXERLEAD_API_KEY etc. */
    fprintf(stderr, "%s\n", ml_last_error_message());
    return 1;
  }
  ml_chat_request request = {argc > 1 ? argv[1] : "Hi", NULL, NULL};
  ml_stream *stream = NULL;
  ml_status status = ml_chat_stream(client, &request, &stream);
  const char *text;
  size_t len;
  while (status == ML_OK && (status = ml_stream_next(stream, &text, &len)) == ML_OK) {
    fwrite(text, 1, len, stdout);
    fflush(stdout);
  }
  if (status != ML_DONE) fprintf(stderr, "\nfailed (%d, HTTP %d): %s\n", status, ml_last_error_status_code(), ml_last_error_message());
  ml_stream_free(stream);

  volatile int done = 0;
  ml_call *call = NULL;
  printf("\n");
  if (ml_chat_start(client, &request, print_piece, finished, (void *)&done, &call) == ML_OK) {
    while (!done) usleep(10000);
  }
  ml_call_free(call);
  ml_client_free(client);
  return 0;
}
