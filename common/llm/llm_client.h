// A client for OpenAI-compatible chat-completions endpoints (vLLM, the
// llama.cpp server, hosted APIs), shared by tc-refine and tc-augment.
//
// One call sends one conversation and returns the first choice's text. The
// client owns what makes such calls dependable in a long batch job:
//   - a timeout per request, and retries with exponential backoff on
//     timeouts, 429 (honouring Retry-After) and 5xx answers;
//   - an endpoint that cannot be reached at all fails at once with one clear
//     line instead of retrying for minutes;
//   - a response cache on disk, one file per request named by the SHA-256 of
//     the request, so a rerun or a resumed run asks nothing twice;
//   - counters for a closing summary.
// Calls are thread-safe: tools run several at once with tc_llm_for_each.
#ifndef TC_LLM_CLIENT_H
#define TC_LLM_CLIENT_H

#include <stddef.h>

typedef struct {
    const char *url;            // ".../v1" or the full ".../v1/chat/completions"
    const char *model;          // the request's "model"
    const char *api_key;        // sent as "Authorization: Bearer KEY"; NULL for none
    double timeout_s;           // per request, whole transfer
    double connect_timeout_s;
    int retries;                // retries after the first try
    double backoff_s;           // wait before the first retry; doubles each time
    double backoff_max_s;       // longest wait (also caps Retry-After)
    const char *cache_dir;      // NULL: no cache
} tc_llm_config;

// Fills the defaults: 60 s timeout, 10 s to connect, 5 retries, 1 s backoff
// doubling to at most 60 s, no cache, model "default".
void tc_llm_config_defaults(tc_llm_config *config);

typedef struct {
    const char *role;           // "system", "user", "assistant"
    const char *content;
} tc_llm_message;

typedef struct {
    double temperature;         // < 0: not sent (the server's default)
    int max_tokens;             // 0: not sent
    int variant;                // > 0 asks again for a new answer to the same request:
                                // part of the cache key, never sent
} tc_llm_request;

typedef struct {
    long calls;                 // tc_llm_chat calls
    long cache_hits;            // answered from the cache
    long requests;              // HTTP requests sent
    long retries;
    long rate_limited;          // 429 answers
    long timeouts;
    long server_errors;         // 5xx answers
    long malformed;             // 200 answers without choices[0].message.content
    long failures;              // calls that gave up
} tc_llm_stats;

typedef struct tc_llm_client tc_llm_client;

int tc_llm_open(tc_llm_client **client, const tc_llm_config *config);
void tc_llm_close(tc_llm_client *client);

// Sends the conversation; *reply is the answer's text (malloc'd). Returns 0,
// or -1 with the reason (naming the endpoint) in tc_error().
int tc_llm_chat(tc_llm_client *client, const tc_llm_message *messages, int n_messages,
                const tc_llm_request *request, char **reply);

void tc_llm_get_stats(tc_llm_client *client, tc_llm_stats *stats);

// One line for stderr: "12 calls: 10 sent, 2 from cache, 3 retries (...)".
void tc_llm_format_stats(const tc_llm_stats *stats, char *text, size_t size);

// 1 once the endpoint has answered a request and never with 401, 403 or 404
// (a key, a model name or an address to fix): a failure is then about one
// request, not about the endpoint as a whole.
int tc_llm_usable(tc_llm_client *client);

// The endpoint that requests go to (the URL completed with
// /chat/completions where needed).
const char *tc_llm_endpoint(const tc_llm_client *client);

// Runs fn(i, context) for every i in [0, n) on up to `concurrency` threads.
// After the first failure no new item starts; returns 0, or -1 with the
// first failure's message in the caller's tc_error().
int tc_llm_for_each(size_t n, int concurrency, int (*fn)(size_t i, void *context), void *context);

#endif
