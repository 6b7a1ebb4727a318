#include "common/cli/config.h"
#include "common/cli/yaml_load.h"
#include "common/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct node {
    yaml_node_type_t type;
    char *scalar;
    int plain;                 // a plain (unquoted) scalar
    struct node **items;       // sequence items, or key/value pairs for mappings
    size_t n_items;
    size_t line;
} node;

static void free_node(node *n) {
    if (!n) return;
    for (size_t i = 0; i < n->n_items; i++) free_node(n->items[i]);
    free(n->items);
    free(n->scalar);
    free(n);
}

// A config file is a few settings: far below these, and a file above them is
// a mistake or an attack, refused before anything is built from it.
static const tc_yaml_limits config_limits = {.max_depth = 16, .max_expansion = 1 << 20, .max_bytes = 1 << 20};

// The tree as plain nodes, aliases copied out; NULL only when out of memory
// (tc_yaml_load has bounded the depth and what the copies weigh).
static node *convert(yaml_document_t *doc, yaml_node_t *y) {
    if (!y) return NULL;
    node *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->type = y->type;
    n->line = y->start_mark.line + 1;
    if (y->type == YAML_SCALAR_NODE) {
        n->scalar = strndup((const char *)y->data.scalar.value, y->data.scalar.length);
        n->plain = y->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (!n->scalar) goto fail;
    } else if (y->type == YAML_SEQUENCE_NODE) {
        size_t count = (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
        n->items = calloc(count ? count : 1, sizeof *n->items);
        if (!n->items) goto fail;
        for (size_t i = 0; i < count; i++) {
            n->items[n->n_items] = convert(doc, yaml_document_get_node(doc, y->data.sequence.items.start[i]));
            if (!n->items[n->n_items++]) goto fail;
        }
    } else if (y->type == YAML_MAPPING_NODE) {
        size_t count = (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
        n->items = calloc(2 * count + 1, sizeof *n->items);
        if (!n->items) goto fail;
        for (size_t i = 0; i < count; i++) {
            yaml_node_pair_t *pair = &y->data.mapping.pairs.start[i];
            n->items[n->n_items] = convert(doc, yaml_document_get_node(doc, pair->key));
            if (!n->items[n->n_items++]) goto fail;
            n->items[n->n_items] = convert(doc, yaml_document_get_node(doc, pair->value));
            if (!n->items[n->n_items++]) goto fail;
        }
    }
    return n;
fail:
    free_node(n);
    return NULL;
}

static int push(char ***args, int *n, const char *a, const char *b) {
    char **p = tc_realloc(*args, (size_t)(*n + 2) * sizeof *p);
    if (!p) return -1;
    *args = p;
    if (!(p[(*n)++] = strdup(a))) return tc_fail("out of memory");
    if (b && !(p[(*n)++] = strdup(b))) return tc_fail("out of memory");
    return 0;
}

static int is_word(const node *n, const char *const *words) {
    if (n->type != YAML_SCALAR_NODE || !n->plain) return 0;
    for (; *words; words++)
        if (!strcasecmp(n->scalar, *words)) return 1;
    return 0;
}

static int section_args(const char *path, const node *section, const char *subcommand,
                        char ***args, int *n) {
    static const char *const yes[] = {"true", "yes", "on", NULL};
    static const char *const no[] = {"false", "no", "off", NULL};
    if (section->type == YAML_SCALAR_NODE && section->plain && !section->scalar[0]) return 0;  // empty
    if (section->type != YAML_MAPPING_NODE)
        return tc_fail("%s: line %zu: a program's section must be a mapping of settings", path, section->line);
    for (size_t i = 0; i + 1 < section->n_items; i += 2) {
        const node *key = section->items[i], *value = section->items[i + 1];
        if (key->type != YAML_SCALAR_NODE || !key->scalar[0])
            return tc_fail("%s: line %zu: a setting's name must be a word", path, key->line);
        char option[256];
        snprintf(option, sizeof option, "--%s", key->scalar);
        if (value->type == YAML_MAPPING_NODE) {
            if (subcommand && !strcmp(key->scalar, subcommand) &&
                section_args(path, value, NULL, args, n))
                return -1;
            continue;  // the section of another subcommand
        }
        if (value->type == YAML_SEQUENCE_NODE) {
            for (size_t k = 0; k < value->n_items; k++) {
                if (value->items[k]->type != YAML_SCALAR_NODE)
                    return tc_fail("%s: line %zu: '%s' must list plain values", path, value->line, key->scalar);
                if (push(args, n, option, value->items[k]->scalar)) return -1;
            }
        } else if (value->type == YAML_SCALAR_NODE && value->plain && !value->scalar[0]) {
            continue;  // `key:` with nothing (or only comments) after it sets nothing
        } else if (is_word(value, yes)) {
            if (push(args, n, option, NULL)) return -1;
        } else if (is_word(value, no)) {
            snprintf(option, sizeof option, "--no-%s", key->scalar);
            if (push(args, n, option, NULL)) return -1;
        } else if (push(args, n, option, value->scalar)) {
            return -1;
        }
    }
    return 0;
}

int tc_config_args(const char *path, const char *program, const char *subcommand, char ***args, int *n_args) {
    FILE *f = fopen(path, "rb");
    if (!f) return tc_fail("%s: cannot open: %s", path, strerror(errno));
    yaml_document_t doc;
    int rc = tc_yaml_load(f, path, &config_limits, &doc);
    fclose(f);
    if (rc) return -1;
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    node *root = top ? convert(&doc, top) : NULL;
    yaml_document_delete(&doc);
    if (!top) return 0;  // an empty file has no settings
    if (!root) return tc_fail("%s: out of memory", path);
    if (root->type != YAML_MAPPING_NODE) {
        free_node(root);
        return tc_fail("%s: the top level must map program names to their settings", path);
    }
    const char *short_name = strncmp(program, "tc-", 3) == 0 ? program + 3 : program;
    for (size_t i = 0; rc == 0 && i + 1 < root->n_items; i += 2) {
        const node *key = root->items[i];
        if (key->type == YAML_SCALAR_NODE && (!strcmp(key->scalar, program) || !strcmp(key->scalar, short_name)))
            rc = section_args(path, root->items[i + 1], subcommand, args, n_args);
    }
    free_node(root);
    return rc;
}
