// The chat-completions client against the stub server on loopback: answers,
// retries with backoff on 429/5xx/timeouts/malformed answers, giving up,
// client errors, an unreachable endpoint, the response cache, parallel calls.
#include "tests/harness.h"
#include "tests/llm/stub.h"
#include "common/error.h"
#include "common/llm/llm_client.h"
#include "common/sha256.h"

#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const tc_llm_message annotate_messages[] = {
    {"system", "Select its classes from the following categories: space, hockey, guns. Just give the names."},
    {"user", "A document about rockets."}};

static tc_llm_client *open_client(const stub_server *s, const char *cache, int retries) {
    tc_llm_config config;
    tc_llm_config_defaults(&config);
    config.url = s->url;
    config.model = "stub-model";
    config.timeout_s = 0.5;
    config.retries = retries;
    config.backoff_s = 0.01;
    config.cache_dir = cache;
    config.api_key = "secret-key";
    tc_llm_client *c = NULL;
    if (tc_llm_open(&c, &config)) printf("  open: %s\n", tc_error());
    return c;
}

static void test_sha256_vectors(void) {
    char hex[65];
    tc_sha256_hex("", 0, hex);
    CHECK(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    tc_sha256_hex("abc", 3, hex);
    CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    tc_sha256_hex(two_blocks, strlen(two_blocks), hex);
    CHECK(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
}

static void test_plain_answer(void) {
    stub_server s;
    if (stub_start(&s, "", 1)) SKIP("python3 could not start the stub server");
    tc_llm_client *c = open_client(&s, NULL, 2);
    REQUIRE(c);
    char *reply = NULL;
    tc_llm_request req = {.temperature = 0};
    CHECK(tc_llm_chat(c, annotate_messages, 2, &req, &reply) == 0);
    CHECKF(reply && !strcmp(reply, "space, hockey"), "reply '%s'", reply ? reply : "(null)");
    CHECK(strstr(tc_llm_endpoint(c), "/v1/chat/completions") != NULL);
    CHECK(stub_requests(&s) == 1);
    CHECK(stub_log_has(&s, "Bearer secret-key"));
    CHECK(stub_log_has(&s, "\\\"model\\\":\\\"stub-model\\\""));
    free(reply);
    tc_llm_close(c);
    stub_stop(&s);
}

static void test_retries_then_success(void) {
    stub_server s;
    if (stub_start(&s, "429,500,timeout,malformed,nochoice,429ra", 2)) SKIP("python3 could not start the stub server");
    tc_llm_client *c = open_client(&s, NULL, 6);
    REQUIRE(c);
    char *reply = NULL;
    tc_llm_request req = {.temperature = 0};
    CHECKF(tc_llm_chat(c, annotate_messages, 2, &req, &reply) == 0, "%s", tc_error());
    CHECK(reply && !strcmp(reply, "space, hockey"));
    tc_llm_stats st;
    tc_llm_get_stats(c, &st);
    CHECKF(st.requests == 7 && st.retries == 6, "requests %ld retries %ld", st.requests, st.retries);
    CHECK(st.rate_limited == 2 && st.server_errors == 1 && st.timeouts == 1 && st.malformed == 2);
    CHECK(st.failures == 0);
    free(reply);
    tc_llm_close(c);
    stub_stop(&s);
}

static void test_gives_up(void) {
    stub_server s;
    if (stub_start(&s, "503,503,503,503", 1)) SKIP("python3 could not start the stub server");
    tc_llm_client *c = open_client(&s, NULL, 2);
    REQUIRE(c);
    char *reply = NULL;
    CHECK(tc_llm_chat(c, annotate_messages, 2, NULL, &reply) == -1 && !reply);
    CHECKF(strstr(tc_error(), "gave up after 3 tries: HTTP 503: server trouble"), "%s", tc_error());
    CHECK(strstr(tc_error(), "/v1/chat/completions"));
    CHECK(stub_requests(&s) == 3);
    tc_llm_close(c);
    stub_stop(&s);
}

static void test_client_error_not_retried(void) {
    stub_server s;
    if (stub_start(&s, "400", 1)) SKIP("python3 could not start the stub server");
    tc_llm_client *c = open_client(&s, NULL, 5);
    REQUIRE(c);
    char *reply = NULL;
    CHECK(tc_llm_chat(c, annotate_messages, 2, NULL, &reply) == -1);
    CHECKF(strstr(tc_error(), "HTTP 400: bad request, says the stub"), "%s", tc_error());
    CHECK(stub_requests(&s) == 1);
    tc_llm_close(c);
    stub_stop(&s);
}

static void test_unreachable_fails_fast(void) {
    stub_server s;
    if (stub_start(&s, "", 1)) SKIP("python3 could not start the stub server");
    stub_server dead = s;
    stub_stop(&s);  // nothing listens on its port now
    tc_llm_client *c = open_client(&dead, NULL, 5);
    REQUIRE(c);
    char *reply = NULL;
    double t0 = now();
    CHECK(tc_llm_chat(c, annotate_messages, 2, NULL, &reply) == -1);
    CHECKF(strstr(tc_error(), "unreachable") && strstr(tc_error(), dead.url), "%s", tc_error());
    CHECK(now() - t0 < 2.0);
    tc_llm_stats st;
    tc_llm_get_stats(c, &st);
    CHECK(st.requests == 1 && st.retries == 0);
    tc_llm_close(c);
}

static void test_cache_answers_reruns(void) {
    stub_server s;
    if (stub_start(&s, "", 1)) SKIP("python3 could not start the stub server");
    char cache[512];
    snprintf(cache, sizeof cache, "%s/llm-cache-%d", harness_tmpdir(), (int)getpid());
    tc_llm_client *c = open_client(&s, cache, 1);
    REQUIRE(c);
    char *a = NULL, *b = NULL, *v = NULL;
    tc_llm_request req = {.temperature = 0};
    CHECK(tc_llm_chat(c, annotate_messages, 2, &req, &a) == 0);
    CHECK(tc_llm_chat(c, annotate_messages, 2, &req, &b) == 0);
    CHECK(a && b && !strcmp(a, b));
    CHECK(stub_requests(&s) == 1);
    tc_llm_close(c);
    // a new run with the same cache asks nothing
    c = open_client(&s, cache, 1);
    REQUIRE(c);
    free(b);
    CHECK(tc_llm_chat(c, annotate_messages, 2, &req, &b) == 0 && b && !strcmp(a, b));
    CHECK(stub_requests(&s) == 1);
    tc_llm_stats st;
    tc_llm_get_stats(c, &st);
    CHECK(st.cache_hits == 1 && st.requests == 0);
    // another variant of the same request is a new question
    req.variant = 1;
    CHECK(tc_llm_chat(c, annotate_messages, 2, &req, &v) == 0);
    CHECK(stub_requests(&s) == 2);
    free(a), free(b), free(v);
    tc_llm_close(c);
    stub_stop(&s);
    char command[700];
    snprintf(command, sizeof command, "rm -rf '%s'", cache);
    CHECK(system(command) == 0);
}

// 1 if any file under `dir` holds `text`.
static int tree_has(const char *dir, const char *text) {
    char command[1200];
    snprintf(command, sizeof command, "grep -rqF -- '%s' '%s'", text, dir);
    return system(command) == 0;
}

static void test_url_secrets_stay_out(void) {
    stub_server s;
    if (stub_start(&s, "ok,400", 1)) SKIP("python3 could not start the stub server");
    char cache[512], url[400];
    snprintf(cache, sizeof cache, "%s/llm-cache-secret-%d", harness_tmpdir(), (int)getpid());
    // the path completed before the query string; credentials and keys masked where shown
    snprintf(url, sizeof url, "http://me:pw-SECRET1@127.0.0.1:%d/v1/?api_key=SECRET2&tier=free", s.port);
    tc_llm_config config;
    tc_llm_config_defaults(&config);
    config.url = url;
    config.retries = 0;
    config.cache_dir = cache;
    tc_llm_client *c = NULL;
    REQUIRE(tc_llm_open(&c, &config) == 0);
    char want[256];
    snprintf(want, sizeof want, "http://***@127.0.0.1:%d/v1/chat/completions?api_key=***&tier=free", s.port);
    CHECKF(!strcmp(tc_llm_endpoint(c), want), "shown as %s", tc_llm_endpoint(c));
    char *reply = NULL;
    CHECK(tc_llm_chat(c, annotate_messages, 2, NULL, &reply) == 0 && reply);
    free(reply);
    CHECK(stub_log_has(&s, "\"path\": \"/v1/chat/completions?api_key=SECRET2&tier=free\""));
    CHECK(!tree_has(cache, "SECRET") && tree_has(cache, "api_key=***"));
    // the same request by another key is the same question: answered from the cache
    snprintf(url, sizeof url, "http://me:other@127.0.0.1:%d/v1/?api_key=OTHER&tier=free", s.port);
    tc_llm_client *d = NULL;
    REQUIRE(tc_llm_open(&d, &config) == 0);
    CHECK(tc_llm_chat(d, annotate_messages, 2, NULL, &reply) == 0 && stub_requests(&s) == 1);
    free(reply);
    tc_llm_close(d);
    // an error names the endpoint masked
    tc_llm_message other[2] = {{"system", "Pick."}, {"user", "another question"}};
    CHECK(tc_llm_chat(c, other, 2, NULL, &reply) == -1);
    CHECKF(strstr(tc_error(), "HTTP 400") && !strstr(tc_error(), "SECRET") && strstr(tc_error(), "api_key=***"), "%s",
           tc_error());
    tc_llm_close(c);
    stub_stop(&s);
    snprintf(want, sizeof want, "rm -rf '%s'", cache);
    CHECK(system(want) == 0);
    config.url = "ftp://me:SECRET3@host/v1";
    CHECK(tc_llm_open(&c, &config) == -1);
    CHECKF(!strstr(tc_error(), "SECRET") && strstr(tc_error(), "ftp://***@host/v1"), "%s", tc_error());
}

typedef struct {
    tc_llm_client *client;
    char *replies[8];
} parallel_job;

static int ask_one(size_t i, void *context) {
    parallel_job *job = context;
    char user[64];
    snprintf(user, sizeof user, "[[reply:answer %zu]]", i);
    tc_llm_message m[2] = {{"system", "Pick."}, {"user", user}};
    return tc_llm_chat(job->client, m, 2, NULL, &job->replies[i]);
}

static void test_parallel_calls(void) {
    stub_server s;
    if (stub_start(&s, "429,429", 1)) SKIP("python3 could not start the stub server");
    parallel_job job = {.client = open_client(&s, NULL, 3)};
    REQUIRE(job.client);
    CHECKF(tc_llm_for_each(8, 4, ask_one, &job) == 0, "%s", tc_error());
    for (int i = 0; i < 8; i++) {
        char want[32];
        snprintf(want, sizeof want, "answer %d", i);
        CHECK(job.replies[i] && !strcmp(job.replies[i], want));
        free(job.replies[i]);
    }
    CHECK(stub_requests(&s) == 10);
    tc_llm_close(job.client);
    stub_stop(&s);
}

static void test_bad_endpoint_rejected(void) {
    tc_llm_config config;
    tc_llm_config_defaults(&config);
    config.url = "localhost:8000";
    tc_llm_client *c = NULL;
    CHECK(tc_llm_open(&c, &config) == -1 && !c);
    CHECK(strstr(tc_error(), "http://"));
}

int main(void) {
    RUN(test_sha256_vectors);
    RUN(test_plain_answer);
    RUN(test_retries_then_success);
    RUN(test_gives_up);
    RUN(test_client_error_not_retried);
    RUN(test_unreachable_fails_fast);
    RUN(test_cache_answers_reruns);
    RUN(test_parallel_calls);
    RUN(test_url_secrets_stay_out);
    RUN(test_bad_endpoint_rejected);
    HARNESS_EXIT();
}
