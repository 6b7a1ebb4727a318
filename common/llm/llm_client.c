#include "common/llm/llm_client.h"
#include "common/cli/io.h"
#include "common/error.h"
#include "common/redact.h"
#include "common/sha256.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { MAX_REPLY_BYTES = 64 << 20 };

struct tc_llm_client {
    tc_llm_config config;
    char *endpoint;               // where requests go, credentials and all
    char *shown;                  // the endpoint with its secrets masked: for messages and the cache
    char *cache_dir;
    atomic_int ever_answered;     // the endpoint has answered at least once
    atomic_int refused;           // it answered 401, 403 or 404: a key, model or address to fix
    atomic_long calls, cache_hits, requests, retries, rate_limited, timeouts, server_errors, malformed, failures;
};

void tc_llm_config_defaults(tc_llm_config *config) {
    memset(config, 0, sizeof *config);
    config->model = "default";
    config->timeout_s = 60;
    config->connect_timeout_s = 10;
    config->retries = 5;
    config->backoff_s = 1;
    config->backoff_max_s = 60;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static int make_dirs(const char *path) {
    char *copy = strdup(path);
    if (!copy) return tc_fail("out of memory");
    for (char *p = copy + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char saved = *p;
            *p = 0;
            if (mkdir(copy, 0777) && errno != EEXIST) {
                tc_fail("%s: cannot create: %s", copy, strerror(errno));
                free(copy);
                return -1;
            }
            *p = saved;
            if (!saved) break;
        }
    }
    free(copy);
    return 0;
}

// The URL completed with /chat/completions where its path lacks it, before
// any query string (".../v1?key=K" -> ".../v1/chat/completions?key=K").
static char *endpoint_of(const char *url) {
    size_t path_end = strcspn(url, "?#"), n = path_end;
    while (n > 0 && url[n - 1] == '/') n--;
    const char *suffix = "/chat/completions";
    size_t suffix_len = strlen(suffix);
    int complete = n >= suffix_len && !strncmp(url + n - suffix_len, suffix, suffix_len);
    size_t size = strlen(url) + suffix_len + 1;
    char *endpoint = tc_malloc(size);
    if (endpoint) snprintf(endpoint, size, "%.*s%s%s", (int)n, url, complete ? "" : suffix, url + path_end);
    return endpoint;
}

int tc_llm_open(tc_llm_client **out, const tc_llm_config *config) {
    *out = NULL;
    if (!config->url || !config->url[0]) return tc_fail("no LLM endpoint given");
    if (strncmp(config->url, "http://", 7) && strncmp(config->url, "https://", 8)) {
        char shown[512];
        return tc_fail("%s: the LLM endpoint must be an http:// or https:// URL",
                       tc_redact_urls(shown, sizeof shown, config->url));
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) return tc_fail("libcurl could not be initialised");
    tc_llm_client *c = tc_calloc(1, sizeof *c);
    if (!c) return -1;
    c->config = *config;
    c->endpoint = endpoint_of(config->url);
    if (!c->endpoint) return tc_llm_close(c), -1;
    size_t shown_size = 3 * strlen(c->endpoint) + 8;  // "***" may stand for a single byte
    c->shown = tc_malloc(shown_size);
    if (!c->shown) return tc_llm_close(c), -1;
    tc_redact_urls(c->shown, shown_size, c->endpoint);
    c->cache_dir = dup_or_null(config->cache_dir);
    if (config->cache_dir && make_dirs(config->cache_dir)) return tc_llm_close(c), -1;
    c->config.url = c->endpoint;
    c->config.cache_dir = c->cache_dir;
    *out = c;
    return 0;
}

void tc_llm_close(tc_llm_client *c) {
    if (!c) return;
    free(c->endpoint);
    free(c->shown);
    free(c->cache_dir);
    free(c);
}

const char *tc_llm_endpoint(const tc_llm_client *c) { return c->shown; }

int tc_llm_usable(tc_llm_client *c) { return atomic_load(&c->ever_answered) && !atomic_load(&c->refused); }

// ---------------------------------------------------------------- request body

static char *request_body(const tc_llm_client *c, const tc_llm_message *messages, int n, const tc_llm_request *req) {
    json_t *body = json_object(), *list = json_array();
    if (!body || !list) {
        json_decref(body), json_decref(list);
        return NULL;
    }
    json_object_set_new(body, "model", json_string(c->config.model ? c->config.model : "default"));
    for (int i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s}", "role", messages[i].role, "content", messages[i].content));
    json_object_set_new(body, "messages", list);
    if (req && req->temperature >= 0) json_object_set_new(body, "temperature", json_real(req->temperature));
    if (req && req->max_tokens > 0) json_object_set_new(body, "max_tokens", json_integer(req->max_tokens));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return text;
}

// ---------------------------------------------------------------- cache

// What identifies an answer: the endpoint, the exact body, the variant. The
// endpoint is the one shown, its secrets masked: it is stored in the entry,
// and a key (like the Authorization header, never part of this) does not
// change what a model answers.
static char *cache_identity(const tc_llm_client *c, const char *body, int variant) {
    size_t size = strlen(c->shown) + strlen(body) + 32;
    char *text = tc_malloc(size);
    if (text) snprintf(text, size, "%s\n%s\n#%d", c->shown, body, variant);
    return text;
}

static char *cache_path(const tc_llm_client *c, const char *identity) {
    char hex[65];
    tc_sha256_hex(identity, strlen(identity), hex);
    size_t size = strlen(c->cache_dir) + 80;
    char *path = tc_malloc(size);
    if (path) snprintf(path, size, "%s/%.2s/%s.json", c->cache_dir, hex, hex);
    return path;
}

// The cached answer, or NULL. An entry whose stored request differs (a
// damaged file) is ignored and later overwritten.
static char *cache_read(const tc_llm_client *c, const char *path, const char *identity) {
    json_t *entry = json_load_file(path, 0, NULL);
    if (!entry) return NULL;
    const char *stored = json_string_value(json_object_get(entry, "request"));
    const char *reply = json_string_value(json_object_get(entry, "reply"));
    char *answer = stored && reply && !strcmp(stored, identity) ? strdup(reply) : NULL;
    json_decref(entry);
    return answer;
}

// Written to a temporary file and renamed, so that a run killed midway
// never leaves a torn entry and concurrent writers never mix bytes.
static int cache_write(const char *path, const char *identity, const char *reply) {
    char *dir = strdup(path);
    if (!dir) return tc_fail("out of memory");
    *strrchr(dir, '/') = 0;
    int rc = make_dirs(dir);
    free(dir);
    if (rc) return -1;
    size_t size = strlen(path) + 64;
    char *temp = tc_malloc(size);
    if (!temp) return -1;
    snprintf(temp, size, "%s.tmp.%ld.%lx", path, (long)getpid(), (unsigned long)pthread_self());
    json_t *entry = json_pack("{s:s, s:s}", "request", identity, "reply", reply);
    rc = entry && json_dump_file(entry, temp, JSON_COMPACT) == 0 && rename(temp, path) == 0 ? 0 : -1;
    if (rc) {
        tc_fail("%s: cannot write the cache entry: %s", path, strerror(errno));
        unlink(temp);
    }
    json_decref(entry);
    free(temp);
    return rc;
}

// ---------------------------------------------------------------- one HTTP exchange

typedef struct {
    char *data;
    size_t size, cap;
    int too_big;
    double retry_after;           // seconds from a Retry-After header, or -1
} response;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
    response *r = userdata;
    size_t n = size * nmemb;
    if (r->size + n + 1 > MAX_REPLY_BYTES) {
        r->too_big = 1;
        return 0;
    }
    if (r->size + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->size + n + 1) cap *= 2;
        char *p = realloc(r->data, cap);
        if (!p) return 0;
        r->data = p, r->cap = cap;
    }
    memcpy(r->data + r->size, ptr, n);
    r->size += n;
    r->data[r->size] = 0;
    return n;
}

static size_t on_header(char *buffer, size_t size, size_t nitems, void *userdata) {
    response *r = userdata;
    size_t n = size * nitems;
    if (n > 12 && !strncasecmp(buffer, "Retry-After:", 12)) {
        char text[64];
        size_t m = n - 12 < sizeof text - 1 ? n - 12 : sizeof text - 1;
        memcpy(text, buffer + 12, m);
        text[m] = 0;
        char *end;
        double v = strtod(text, &end);
        if (end != text && v >= 0 && isfinite(v)) r->retry_after = v;
    }
    return n;
}

typedef enum { SENT_OK, SENT_RETRY, SENT_FATAL } outcome;

// The answer's text from a 200 body, or NULL (malformed).
static char *reply_text(const char *body) {
    json_t *root = json_loads(body, 0, NULL);
    if (!root) return NULL;
    json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
    const char *content = json_string_value(json_object_get(json_object_get(choice, "message"), "content"));
    char *text = content ? strdup(content) : NULL;
    json_decref(root);
    return text;
}

// At most `max` bytes of a server's text, whole characters, "..." where it
// was cut, newlines as spaces: one line, a readable length (tc_escape does
// the rest when it is printed).
static void server_text(char *out, size_t size, const char *prefix, const char *text, size_t max) {
    size_t len = strlen(text), keep = tc_utf8_cut(text, len, max);
    snprintf(out, size, "%s%.*s%s", prefix, (int)keep, text, keep < len ? "..." : "");
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
}

// The server's own words for an error status, when it sent JSON.
static void server_message(const char *body, char *text, size_t size) {
    text[0] = 0;
    if (!body) return;
    json_t *root = json_loads(body, 0, NULL);
    json_t *error = json_object_get(root, "error");
    const char *message = json_is_string(error) ? json_string_value(error)
                                                : json_string_value(json_object_get(error, "message"));
    if (!message) message = json_string_value(json_object_get(root, "message"));
    server_text(text, size, ": ", message ? message : body, message ? 200 : 120);
    json_decref(root);
}

static outcome send_once(tc_llm_client *c, const char *body, char **reply, double *retry_after, char *why, size_t why_size) {
    CURL *curl = curl_easy_init();
    if (!curl) return snprintf(why, why_size, "libcurl could not start a request"), SENT_FATAL;
    response r = {.retry_after = -1};
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    char auth[1024];
    if (c->config.api_key && c->config.api_key[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->config.api_key);
        headers = curl_slist_append(headers, auth);
    }
    curl_easy_setopt(curl, CURLOPT_URL, c->endpoint);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts without signals: we are threaded
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(c->config.timeout_s * 1000));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->config.connect_timeout_s * 1000));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "teleclass-c/" TC_VERSION);
    atomic_fetch_add(&c->requests, 1);
    CURLcode code = curl_easy_perform(curl);
    long status = 0;
    double connected_after = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(curl, CURLINFO_CONNECT_TIME, &connected_after);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    *retry_after = r.retry_after;
    outcome result = SENT_FATAL;
    if (code == CURLE_OPERATION_TIMEDOUT && connected_after <= 0) {
        // no connection at all (a dropped SYN): the server is not there
        snprintf(why, why_size, "unreachable (no connection within %g s)", c->config.connect_timeout_s);
        result = atomic_load(&c->ever_answered) ? SENT_RETRY : SENT_FATAL;
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
        atomic_fetch_add(&c->timeouts, 1);
        snprintf(why, why_size, "no answer within %g s", c->config.timeout_s);
        result = SENT_RETRY;
    } else if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_RESOLVE_PROXY) {
        snprintf(why, why_size, "unreachable (%s)", curl_easy_strerror(code));
        // Never answered: a wrong address or a server that is not up; say so now.
        result = atomic_load(&c->ever_answered) ? SENT_RETRY : SENT_FATAL;
    } else if (r.too_big) {
        snprintf(why, why_size, "the answer is larger than %d MiB", MAX_REPLY_BYTES >> 20);
    } else if (code != CURLE_OK) {
        snprintf(why, why_size, "%s", curl_easy_strerror(code));
        result = SENT_RETRY;
    } else {
        atomic_store(&c->ever_answered, 1);
        char message[256];
        if (status == 200) {
            *reply = r.data ? reply_text(r.data) : NULL;
            if (*reply) result = SENT_OK;
            else {
                atomic_fetch_add(&c->malformed, 1);
                server_text(why, why_size, "malformed answer (no choices[0].message.content): ", r.data ? r.data : "",
                            80);
                result = SENT_RETRY;
            }
        } else if (status == 429 || status == 408 || status >= 500) {
            if (status == 429) atomic_fetch_add(&c->rate_limited, 1);
            else atomic_fetch_add(&c->server_errors, 1);
            server_message(r.data, message, sizeof message);
            snprintf(why, why_size, "HTTP %ld%s", status, message);
            result = SENT_RETRY;
        } else {
            if (status == 401 || status == 403 || status == 404) atomic_store(&c->refused, 1);
            server_message(r.data, message, sizeof message);
            snprintf(why, why_size, "HTTP %ld%s", status, message);
        }
    }
    free(r.data);
    return result;
}

static void sleep_seconds(double s) {
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) && errno == EINTR) {}
}

// Exponential backoff with a little jitter, so that parallel callers that
// were refused together do not all come back at the same instant.
static double backoff_delay(const tc_llm_config *config, int retry, double retry_after, unsigned *seed) {
    double delay = config->backoff_s * pow(2.0, retry);
    delay *= 1.0 + 0.1 * ((double)rand_r(seed) / RAND_MAX);
    if (retry_after >= 0) delay = retry_after;
    return delay < config->backoff_max_s ? delay : config->backoff_max_s;
}

static int send_with_retries(tc_llm_client *c, const char *body, char **reply) {
    char why[512] = "";
    unsigned seed = (unsigned)(uintptr_t)body ^ (unsigned)time(NULL);
    for (int attempt = 0;; attempt++) {
        double retry_after = -1;
        outcome o = send_once(c, body, reply, &retry_after, why, sizeof why);
        if (o == SENT_OK) return 0;
        if (o == SENT_FATAL || attempt >= c->config.retries) {
            atomic_fetch_add(&c->failures, 1);
            char shown_why[3 * sizeof why];  // a server may quote the URL back
            tc_redact_urls(shown_why, sizeof shown_why, why);
            if (o == SENT_FATAL) return tc_fail("%s: %s", c->shown, shown_why);
            return tc_fail("%s: gave up after %d tries: %s", c->shown, attempt + 1, shown_why);
        }
        atomic_fetch_add(&c->retries, 1);
        sleep_seconds(backoff_delay(&c->config, attempt, retry_after, &seed));
    }
}

int tc_llm_chat(tc_llm_client *c, const tc_llm_message *messages, int n, const tc_llm_request *req, char **reply) {
    *reply = NULL;
    atomic_fetch_add(&c->calls, 1);
    char *body = request_body(c, messages, n, req);
    if (!body) return tc_fail("out of memory");
    char *identity = NULL, *path = NULL;
    int rc = -1;
    if (c->cache_dir) {
        identity = cache_identity(c, body, req ? req->variant : 0);
        path = identity ? cache_path(c, identity) : NULL;
        if (!path) goto done;
        if ((*reply = cache_read(c, path, identity))) {
            atomic_fetch_add(&c->cache_hits, 1);
            rc = 0;
            goto done;
        }
    }
    if (send_with_retries(c, body, reply)) goto done;
    rc = path ? cache_write(path, identity, *reply) : 0;
    if (rc) free(*reply), *reply = NULL;
done:
    free(body);
    free(identity);
    free(path);
    return rc;
}

void tc_llm_get_stats(tc_llm_client *c, tc_llm_stats *s) {
    s->calls = atomic_load(&c->calls);
    s->cache_hits = atomic_load(&c->cache_hits);
    s->requests = atomic_load(&c->requests);
    s->retries = atomic_load(&c->retries);
    s->rate_limited = atomic_load(&c->rate_limited);
    s->timeouts = atomic_load(&c->timeouts);
    s->server_errors = atomic_load(&c->server_errors);
    s->malformed = atomic_load(&c->malformed);
    s->failures = atomic_load(&c->failures);
}

void tc_llm_format_stats(const tc_llm_stats *s, char *text, size_t size) {
    snprintf(text, size,
             "%ld calls: %ld from the cache, %ld requests sent, %ld retries (%ld rate-limited, %ld timeouts, "
             "%ld server errors, %ld malformed), %ld failed",
             s->calls, s->cache_hits, s->requests, s->retries, s->rate_limited, s->timeouts, s->server_errors,
             s->malformed, s->failures);
}

// ---------------------------------------------------------------- parallel calls

typedef struct {
    size_t n;
    atomic_size_t next;
    atomic_int failed;
    int (*fn)(size_t, void *);
    void *context;
    pthread_mutex_t lock;
    char first_error[1024];
} pool;

static void *pool_worker(void *arg) {
    pool *p = arg;
    for (;;) {
        if (atomic_load(&p->failed)) break;
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n) break;
        if (p->fn(i, p->context)) {
            pthread_mutex_lock(&p->lock);
            if (!atomic_load(&p->failed)) snprintf(p->first_error, sizeof p->first_error, "%s", tc_error());
            atomic_store(&p->failed, 1);
            pthread_mutex_unlock(&p->lock);
            break;
        }
    }
    return NULL;
}

int tc_llm_for_each(size_t n, int concurrency, int (*fn)(size_t i, void *context), void *context) {
    if (n == 0) return 0;
    if (concurrency < 1) concurrency = 1;
    if ((size_t)concurrency > n) concurrency = (int)n;
    pool p = {.n = n, .fn = fn, .context = context};
    atomic_init(&p.next, 0);
    atomic_init(&p.failed, 0);
    pthread_mutex_init(&p.lock, NULL);
    pthread_t *threads = tc_calloc((size_t)concurrency, sizeof *threads);
    if (!threads) return -1;
    int started = 0;
    for (; started < concurrency; started++)
        if (pthread_create(&threads[started], NULL, pool_worker, &p)) break;
    if (started == 0) pool_worker(&p);
    for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
    free(threads);
    pthread_mutex_destroy(&p.lock);
    if (atomic_load(&p.failed)) {
        tc_error_set(p.first_error);
        return -1;
    }
    return 0;
}
