// Pseudo-documents from an LLM: one job per path, run `concurrency` at a
// time; each asks up to `attempts` times (a new variant each time, so the
// cache keeps every answer) until enough valid documents came back.
#include "common/augment/augment_sources.h"
#include "common/error.h"
#include "common/cli/progress.h"
#include "common/refine/refine.h"

#include <errno.h>
#include <pthread.h>
#include "common/strindex.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char **docs;
    int n;              // accepted
    int kept;           // left after duplicates of earlier paths
    int replies, unparsed, too_short, mentions, duplicates, failed;
    char *error;
} path_result;

typedef struct {
    const tc_taxonomy *taxonomy;
    const tc_paths *paths;
    tc_aug_llm_options *o;
    tc_llm_client *llm;
    path_result *results;
    tc_progress progress;        // paths done, updated by the workers under the lock
    uint64_t done;
    pthread_mutex_t lock;
} job;

// Lowercase, single-spaced: duplicates differ in nothing else.
static char *dedup_key(const char *text) {
    char *key = strdup(text);
    if (key)
        for (char *p = key; *p; p++) *p = (char)tolower((unsigned char)*p);
    return key;
}

// A matcher over the names of the path's classes (as whole words, any case).
static tc_term_matcher *path_name_matcher(const job *j, int p) {
    const tc_paths *paths = j->paths;
    int len = paths->offsets[p + 1] - paths->offsets[p];
    char *names[64];
    if (len > 64) len = 64;
    for (int k = 0; k < len; k++) names[k] = j->taxonomy->names[paths->classes[paths->offsets[p] + k]];
    tc_taxonomy only = {.n_classes = len, .names = names};
    tc_term_matcher *m = NULL;
    tc_term_matcher_create(&m, &only, TC_MATCH_WORD, 1);
    return m;
}

static int mentions_path(tc_term_matcher *m, const char *text, int len) {
    if (tc_term_matcher_set_text(m, text)) return 0;
    for (int c = 0; c < len; c++)
        if (tc_term_matcher_has(m, c)) return 1;
    return 0;
}

// Keeps the valid documents of one answer.
static int take(const job *j, path_result *r, tc_term_matcher *names, int path_len, char **docs, int n,
                tc_strindex *seen) {
    for (int i = 0; i < n; i++) {
        char *text = tc_aug_clean_text(docs[i]);
        if (!text) return -1;
        int keep = 0;
        if (r->n >= j->o->docs_per_path) {
            // enough already
        } else if (tc_aug_word_count(text) < j->o->min_words) {
            r->too_short++;
        } else if (j->o->forbid_names && mentions_path(names, text, path_len)) {
            r->mentions++;
        } else {
            char *key = dedup_key(text);
            int added = 0;
            if (!key || tc_strindex_add(seen, key, strlen(key), &added) < 0) return free(key), free(text), -1;
            free(key);
            if (!added) r->duplicates++;
            keep = added;
        }
        if (keep) r->docs[r->n++] = text;
        else free(text);
    }
    return 0;
}

static int generate_path(size_t p, void *context) {
    job *j = context;
    const tc_paths *paths = j->paths;
    path_result *r = &j->results[p];
    int path_len = paths->offsets[p + 1] - paths->offsets[p];
    char *path = tc_path_text(j->taxonomy, paths, (int)p);
    char *leaf = strdup(j->taxonomy->names[paths->classes[paths->offsets[p + 1] - 1]]);
    r->docs = tc_calloc((size_t)j->o->docs_per_path + 1, sizeof *r->docs);
    tc_term_matcher *names = path_name_matcher(j, (int)p);
    tc_strindex seen;
    int rc = -1;
    if (!path || !leaf || !r->docs || !names || tc_strindex_init(&seen)) goto done;
    for (char *s = leaf; *s; s++)
        if (*s == '_') *s = ' ';
    char *prompt = tc_aug_render(j->o->prompt, path, leaf, j->o->docs_per_path, j->o->words);
    if (!prompt) goto no_prompt;
    tc_llm_message m[2] = {{"user", prompt}, {"user", j->o->format_prompt}};
    int n_messages = j->o->format_prompt && j->o->format_prompt[0] ? 2 : 1;
    rc = 0;
    for (int attempt = 0; attempt < j->o->attempts && r->n < j->o->docs_per_path; attempt++) {
        tc_llm_request req = {.temperature = j->o->llm.temperature, .max_tokens = j->o->llm.max_tokens, .variant = attempt};
        char *reply = NULL;
        if (tc_llm_chat(j->llm, m, n_messages, &req, &reply)) {
            // an endpoint never reached, or refusing the key, model or
            // address, stops everything; otherwise this path failed
            if (!tc_llm_usable(j->llm)) rc = -1;
            else r->failed = 1, r->error = strdup(tc_error());
            break;
        }
        r->replies++;
        char **docs;
        int n = tc_aug_parse_reply(reply, &docs);
        free(reply);
        if (n < 0) {
            r->unparsed++;
            continue;
        }
        rc = take(j, r, names, path_len, docs, n, &seen);
        for (int i = 0; i < n; i++) free(docs[i]);
        free(docs);
        if (rc) break;
    }
    free(prompt);
no_prompt:
    tc_strindex_free(&seen);
done:
    tc_term_matcher_free(names);
    free(path), free(leaf);
    pthread_mutex_lock(&j->lock);
    tc_progress_update(&j->progress, ++j->done);
    pthread_mutex_unlock(&j->lock);
    return rc;
}

static int write_report(const job *j, const char *where) {
    FILE *f = fopen(where, "w");
    if (!f) return tc_fail("%s: cannot create: %s", where, strerror(errno));
    fprintf(f, "path\tclasses\tdocuments\treplies\tunreadable\ttoo_short\tname_mentioned\tduplicates\tstatus\n");
    for (int p = 0; p < j->paths->n; p++) {
        const path_result *r = &j->results[p];
        char *path = tc_path_text(j->taxonomy, j->paths, p);
        fprintf(f, "%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s%s\n", p, path ? path : "?", r->kept, r->replies, r->unparsed,
                r->too_short, r->mentions, r->duplicates,
                r->failed ? "failed: " : r->kept < j->o->docs_per_path ? "short" : "ok", r->failed ? r->error : "");
        free(path);
    }
    return ferror(f) | fclose(f) ? tc_fail("%s: write failed: %s", where, strerror(errno ? errno : EIO)) : 0;
}

// In path order, so that which of two equal documents survives does not
// depend on which request finished first.
static int gather(const job *j, tc_aug_set *out, int *short_paths, int *failed, int *first_failed) {
    tc_strindex seen;
    if (tc_strindex_init(&seen)) return -1;
    int rc = 0;
    *short_paths = *failed = 0;
    *first_failed = -1;
    for (int p = 0; p < j->paths->n && rc == 0; p++) {
        path_result *r = &j->results[p];
        const int32_t *classes = j->paths->classes + j->paths->offsets[p];
        int len = j->paths->offsets[p + 1] - j->paths->offsets[p], kept = 0;
        for (int i = 0; i < r->n && rc == 0; i++) {
            char *key = dedup_key(r->docs[i]), id[512];
            int added = 0;
            if (!key || tc_strindex_add(&seen, key, strlen(key), &added) < 0) rc = -1;
            free(key);
            if (rc || !added) {
                r->duplicates += !rc;
                continue;
            }
            snprintf(id, sizeof id, "%s%d-%d", j->o->id_prefix, p, kept++);
            rc = tc_aug_set_add(out, id, r->docs[i], classes, len, classes[len - 1]);
        }
        r->kept = kept;
        if (r->failed && (*failed)++ == 0) *first_failed = p;
        else if (!r->failed && kept < j->o->docs_per_path) (*short_paths)++;
    }
    tc_strindex_free(&seen);
    return rc;
}

int tc_aug_from_llm(const tc_cli *cli, const tc_taxonomy *taxonomy, const tc_paths *paths, tc_aug_llm_options *o,
                    tc_aug_set *out) {
    job j = {.taxonomy = taxonomy, .paths = paths, .o = o};
    pthread_mutex_init(&j.lock, NULL);
    tc_progress_start(&j.progress, cli, "paths", (uint64_t)paths->n);
    tc_llm_settings_finish(&o->llm);
    if (tc_llm_open(&j.llm, &o->llm.config)) return pthread_mutex_destroy(&j.lock), -1;
    j.results = tc_calloc((size_t)paths->n + 1, sizeof *j.results);
    int rc = -1, short_paths = 0, failed = 0, first_failed = -1;
    if (!j.results) goto done;
    if (tc_llm_for_each((size_t)paths->n, o->llm.concurrency, generate_path, &j)) goto done;
    tc_progress_finish(&j.progress);
    if (gather(&j, out, &short_paths, &failed, &first_failed)) goto done;
    if (o->report && write_report(&j, o->report)) goto done;
    if (failed) {
        char *path = tc_path_text(taxonomy, paths, first_failed);
        tc_fail("%d of %d paths failed (first: %s: %s); answers received so far are cached: run again to resume",
                failed, paths->n, path ? path : "?", j.results[first_failed].error);
        free(path);
        goto done;
    }
    tc_llm_stats st;
    char line[512];
    tc_llm_get_stats(j.llm, &st);
    tc_llm_format_stats(&st, line, sizeof line);
    tc_note("LLM %s: %s", tc_llm_endpoint(j.llm), line);
    tc_note("%zu documents for %d paths: %d complete, %d short of %d valid documents, %d failed", out->n, paths->n,
            paths->n - short_paths - failed, short_paths, o->docs_per_path, failed);
    for (int p = 0; p < paths->n && tc_log_verbosity() > 1; p++) {
        char *path = tc_path_text(taxonomy, paths, p);
        const path_result *r = &j.results[p];
        tc_verbose("%s: %d documents (%d replies, %d unreadable, %d too short, %d naming the path, %d duplicates)",
                   path ? path : "?", r->kept, r->replies, r->unparsed, r->too_short, r->mentions, r->duplicates);
        free(path);
    }
    rc = 0;
done:
    for (int p = 0; j.results && p < paths->n; p++) {
        for (int i = 0; i < j.results[p].n; i++) free(j.results[p].docs[i]);
        free(j.results[p].docs), free(j.results[p].error);
    }
    free(j.results);
    tc_llm_close(j.llm);
    pthread_mutex_destroy(&j.lock);
    return rc;
}
