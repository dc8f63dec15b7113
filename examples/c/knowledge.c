/* The rest of the Workspace API through the one generic call, ml_request: adds a text to the
 * knowledge base, then lists the sources. Per-request options set a timeout and a header.
 * Build: cc examples/c/knowledge.c $(pkg-config --cflags --libs mixerlead) -o knowledge
 * Run:   MIXERLEAD_API_KEY=… ./knowledge "Some text to index" */
#include <stdio.h>

#include "mixerlead.h"

/* Prints the failure the way a log line would want it, with the request id for support. */
static int failed(const char *what, ml_status status) {
  const char *request_id = ml_last_error_request_id();
  fprintf(stderr, "%s failed: %s (%s, HTTP %d, request %s)\n", what, ml_last_error_message(), ml_status_str(status),
          ml_last_error_status_code(), request_id ? request_id : "-");
  return 1;
}

int main(int argc, char **argv) {
  ml_client *client = NULL;
  ml_status status = ml_client_new(NULL, &client); /* MIXERLEAD_API_KEY, MIXERLEAD_BASE_URL, … */
  if (status != ML_OK) return failed("ml_client_new", status);

  const char *headers[] = {"X-Trace", "knowledge-example"};
  ml_request_options options;
  ml_request_options_init(&options);
  options.timeout = 10; /* seconds, for these calls only */
  options.headers = headers;
  options.header_count = 1;

  /* The body is JSON text: a real program builds it with its JSON library (escaping the text). */
  char body[1024];
  snprintf(body, sizeof body, "{\"text\": \"%s\", \"name\": \"example\"}", argc > 1 ? argv[1] : "Hello, knowledge");
  ml_response *response = NULL;
  status = ml_request(client, "POST", "/knowledge", body, &options, &response);
  if (status != ML_OK) {
    ml_client_free(client);
    return failed("POST /knowledge", status);
  }
  printf("added: %s (request %s)\n", ml_response_json(response), ml_response_request_id(response));
  ml_response_free(response);

  status = ml_request(client, "GET", "/knowledge", NULL, &options, &response);
  if (status != ML_OK) {
    ml_client_free(client);
    return failed("GET /knowledge", status);
  }
  printf("sources: %s\n", ml_response_json(response));
  ml_response_free(response);
  ml_client_free(client);
  return 0;
}
