// Pseudo-documents generated elsewhere, in TELEClass's layout:
//   generated_docs.txt         id<TAB>text, one document a line
//   generated_doc2label.json   {"id": {"core_classes": "12", "with ancestors": ["0", "3", "12"]}, ...}
// The labels are the "with ancestors" list (the path, top-level class first);
// the core class is marked.
#include "common/augment/augment_sources.h"
#include "common/error.h"
#include "common/refine/refine_io.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// A class id written as a string ("12") or a number.
static int class_id(json_t *v, int n_classes, int32_t *out) {
    long long id;
    if (json_is_integer(v)) {
        id = json_integer_value(v);
    } else if (json_is_string(v)) {
        char *end;
        id = strtoll(json_string_value(v), &end, 10);
        if (end == json_string_value(v) || *end) return -1;
    } else {
        return -1;
    }
    if (id < 0 || id >= n_classes) return -1;
    *out = (int32_t)id;
    return 0;
}

// 1 if classes[0..n) runs from a top-level class down parent to child.
static int is_path(const tc_taxonomy *t, const int32_t *classes, int n) {
    if (n == 0 || t->parent_offsets[classes[0]] != t->parent_offsets[classes[0] + 1]) return 0;
    for (int k = 1; k < n; k++) {
        int linked = 0;
        for (int32_t e = t->parent_offsets[classes[k]]; e < t->parent_offsets[classes[k] + 1]; e++)
            linked |= t->parents[e] == classes[k - 1];
        if (!linked) return 0;
    }
    return 1;
}

static int labels_of(const tc_taxonomy *t, json_t *entry, const char *where, const char *id, int32_t *classes,
                     int *n, int32_t *core) {
    json_t *list = json_object_get(entry, "with ancestors"), *c = json_object_get(entry, "core_classes");
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > 256)
        return tc_fail("%s: document %s: \"with ancestors\" must list its classes", where, id);
    *n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (class_id(v, t->n_classes, &classes[*n]))
            return tc_fail("%s: document %s: \"with ancestors\" holds %s, which is not a class id (0..%d)", where,
                           id, json_is_string(v) ? json_string_value(v) : "a non-id", t->n_classes - 1);
        (*n)++;
    }
    // core_classes is one id in TELEClass's files; a list or "a,b" takes the first
    json_t *first = json_is_array(c) ? json_array_get(c, 0) : c;
    char buffer[32];
    if (json_is_string(first) && strchr(json_string_value(first), ',')) {
        snprintf(buffer, sizeof buffer, "%.*s", (int)strcspn(json_string_value(first), ","), json_string_value(first));
        first = json_string(buffer);
        int bad = class_id(first, t->n_classes, core);
        json_decref(first);
        if (bad) return tc_fail("%s: document %s: core_classes is not a class id", where, id);
    } else if (!first || class_id(first, t->n_classes, core)) {
        return tc_fail("%s: document %s: core_classes is not a class id", where, id);
    }
    return 0;
}

void tc_aug_import_paths(const char *dir, char *docs_path, char *labels_path, size_t size) {
    snprintf(docs_path, size, "%s/generated_docs.txt", dir);
    snprintf(labels_path, size, "%s/generated_doc2label.json", dir);
}

int tc_aug_import(const tc_taxonomy *t, const char *dir, const char *prefix, tc_aug_set *out) {
    char docs_path[4096], labels_path[4096];
    tc_aug_import_paths(dir, docs_path, labels_path, sizeof docs_path);
    json_error_t jerr;
    json_t *labels = json_load_file(labels_path, 0, &jerr);
    if (!labels) return tc_fail("%s: line %d: %s", labels_path, jerr.line, jerr.text);
    if (!json_is_object(labels)) {
        json_decref(labels);
        return tc_fail("%s: expected an object mapping document ids to their labels", labels_path);
    }
    tc_corpus_reader r;
    if (tc_corpus_open(&r, docs_path)) return json_decref(labels), -1;
    const char *id, *text;
    int rc, n, not_paths = 0;
    int32_t classes[256], core = -1;
    size_t missing = 0;
    while ((rc = tc_corpus_next(&r, NULL, &id, &text)) == 0) {
        json_t *entry = json_object_get(labels, id);
        if (!entry) {
            missing++;
            continue;
        }
        if (labels_of(t, entry, labels_path, id, classes, &n, &core)) {
            rc = -1;
            break;
        }
        not_paths += !is_path(t, classes, n);
        char new_id[4096];
        snprintf(new_id, sizeof new_id, "%s%s", prefix, id);
        if ((rc = tc_aug_set_add(out, new_id, text, classes, n, core))) break;
    }
    size_t listed = json_object_size(labels);
    tc_corpus_close(&r);
    json_decref(labels);
    if (rc < 0) return -1;
    if (missing) tc_warn("%s: %zu documents have no labels in %s and are left out", docs_path, missing, labels_path);
    if (listed > out->n) tc_warn("%s: %zu labeled documents are not in %s", labels_path, listed - out->n, docs_path);
    if (not_paths) tc_warn("%s: %d documents are labeled with classes that are not a root-to-leaf chain", labels_path, not_paths);
    tc_note("imported %zu documents from %s", out->n, dir);
    return 0;
}
