#include "common/llm/llm_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tc_llm_settings_init(tc_llm_settings *s, double temperature, int max_tokens) {
    memset(s, 0, sizeof *s);
    tc_llm_config_defaults(&s->config);
    s->key_env = "TC_LLM_API_KEY";
    s->concurrency = 4;
    s->temperature = temperature;
    s->max_tokens = max_tokens;
}

int tc_llm_settings_option(tc_llm_settings *s, const tc_cli *cli, int opt, const char *arg) {
    switch (opt) {
    case TC_OPT_LLM: s->config.url = arg; return 1;
    case TC_OPT_LLM_MODEL: s->config.model = arg; return 1;
    case TC_OPT_LLM_KEY_ENV: s->key_env = arg; return 1;
    case TC_OPT_LLM_TIMEOUT: s->config.timeout_s = tc_cli_parse_double(cli, "--llm-timeout", arg, 0.001, 86400); return 1;
    case TC_OPT_LLM_RETRIES: s->config.retries = (int)tc_cli_parse_int(cli, "--llm-retries", arg, 0, 100); return 1;
    case TC_OPT_LLM_BACKOFF: s->config.backoff_s = tc_cli_parse_double(cli, "--llm-backoff", arg, 0, 3600); return 1;
    case TC_OPT_LLM_CACHE: s->cache = arg; return 1;
    case TC_OPT_CONCURRENCY: s->concurrency = (int)tc_cli_parse_int(cli, "--concurrency", arg, 1, 1024); return 1;
    case TC_OPT_TEMPERATURE: s->temperature = tc_cli_parse_double(cli, "--temperature", arg, 0, 10); return 1;
    case TC_OPT_MAX_TOKENS: s->max_tokens = (int)tc_cli_parse_int(cli, "--max-tokens", arg, 1, 1 << 24); return 1;
    default: return 0;
    }
}

void tc_llm_settings_finish(tc_llm_settings *s) {
    const char *key = getenv(s->key_env);
    s->config.api_key = key && key[0] ? key : NULL;
    const char *model = getenv("TC_LLM_MODEL");
    if (model && model[0] && !strcmp(s->config.model, "default")) s->config.model = model;
    const char *cache = s->cache ? s->cache : getenv("TC_LLM_CACHE");
    if (cache && !strcmp(cache, "none")) {
        s->config.cache_dir = NULL;
    } else if (cache && cache[0]) {
        s->config.cache_dir = cache;
    } else {
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        size_t size = 4096;
        s->cache_resolved = malloc(size);
        if (s->cache_resolved && xdg && xdg[0]) snprintf(s->cache_resolved, size, "%s/teleclass-c/llm", xdg);
        else if (s->cache_resolved && home && home[0]) snprintf(s->cache_resolved, size, "%s/.cache/teleclass-c/llm", home);
        else if (s->cache_resolved) snprintf(s->cache_resolved, size, ".teleclass-llm-cache");
        s->config.cache_dir = s->cache_resolved;
    }
}

void tc_llm_settings_free(tc_llm_settings *s) {
    free(s->cache_resolved);
    s->cache_resolved = NULL;
}
