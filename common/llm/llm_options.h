// The command-line options of the LLM client, shared by tc-refine annotate
// and tc-augment so that both speak to an endpoint the same way:
//   --llm URL  --llm-model NAME  --llm-key-env VAR  --llm-timeout S
//   --llm-retries N  --llm-backoff S  --llm-cache DIR|none  --concurrency N
//   --temperature T  --max-tokens N
// The API key never appears on the command line (it would be recorded in
// the provenance of every output): it is read from an environment variable,
// TC_LLM_API_KEY unless --llm-key-env names another.
#ifndef TC_LLM_OPTIONS_H
#define TC_LLM_OPTIONS_H

#include "common/cli/cli.h"
#include "common/llm/llm_client.h"

enum {
    TC_OPT_LLM = TC_OPT_FIRST_PROGRAM + 60,
    TC_OPT_LLM_MODEL,
    TC_OPT_LLM_KEY_ENV,
    TC_OPT_LLM_TIMEOUT,
    TC_OPT_LLM_RETRIES,
    TC_OPT_LLM_BACKOFF,
    TC_OPT_LLM_CACHE,
    TC_OPT_CONCURRENCY,
    TC_OPT_TEMPERATURE,
    TC_OPT_MAX_TOKENS,
};

#define TC_LLM_OPTIONS                                                                                         \
    {"llm", required_argument, 0, TC_OPT_LLM}, {"llm-model", required_argument, 0, TC_OPT_LLM_MODEL},         \
        {"llm-key-env", required_argument, 0, TC_OPT_LLM_KEY_ENV},                                              \
        {"llm-timeout", required_argument, 0, TC_OPT_LLM_TIMEOUT},                                              \
        {"llm-retries", required_argument, 0, TC_OPT_LLM_RETRIES},                                              \
        {"llm-backoff", required_argument, 0, TC_OPT_LLM_BACKOFF},                                              \
        {"llm-cache", required_argument, 0, TC_OPT_LLM_CACHE},                                                  \
        {"concurrency", required_argument, 0, TC_OPT_CONCURRENCY},                                              \
        {"temperature", required_argument, 0, TC_OPT_TEMPERATURE},                                              \
        {"max-tokens", required_argument, 0, TC_OPT_MAX_TOKENS}

#define TC_LLM_HELP                                                                                 \
    "      --llm URL       OpenAI-compatible chat endpoint (http://host:port/v1)\n"                   \
    "      --llm-model NAME  model name sent with each request (default: $TC_LLM_MODEL, else\n"      \
    "                      'default')\n"                                                            \
    "      --llm-key-env VAR  environment variable holding the API key (default TC_LLM_API_KEY)\n"   \
    "      --llm-timeout S seconds per request (default 60)\n"                                      \
    "      --llm-retries N retries on timeouts, 429 and 5xx answers (default 5)\n"                   \
    "      --llm-backoff S first wait before a retry, doubled each time (default 1)\n"              \
    "      --llm-cache DIR response cache (default $TC_LLM_CACHE, else\n"                           \
    "                      ~/.cache/teleclass-c/llm); 'none' turns it off\n"                        \
    "      --concurrency N requests in flight at once (default 4)\n"                                \
    "      --temperature T sampling temperature sent to the model\n"                                \
    "      --max-tokens N  longest answer asked for\n"

typedef struct {
    tc_llm_config config;      // url NULL: no LLM
    const char *key_env;
    const char *cache;         // as given
    char *cache_resolved;      // the default, when none was given
    int concurrency;
    double temperature;
    int max_tokens;
} tc_llm_settings;

void tc_llm_settings_init(tc_llm_settings *s, double temperature, int max_tokens);
// Handles an LLM option: returns 1 if `opt` was one (exits 2 on a bad value).
int tc_llm_settings_option(tc_llm_settings *s, const tc_cli *cli, int opt, const char *arg);
// Reads the key and the model from the environment and settles the cache
// directory. Call after parsing, before tc_llm_open.
void tc_llm_settings_finish(tc_llm_settings *s);
void tc_llm_settings_free(tc_llm_settings *s);

#endif
