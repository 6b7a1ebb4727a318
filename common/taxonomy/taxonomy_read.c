// Taxonomies from TELEClass's text layout and from YAML trees.
#include "common/taxonomy/taxonomy_read.h"
#include "common/error.h"
#include "common/cli/io.h"
#include "common/cli/yaml_load.h"
#include "common/strindex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

// Names and edges as they are read, with the line of each edge for messages.
typedef struct {
    int n_names, names_cap;
    char **names;
    long *name_lines;
    int n_edges, edges_cap;
    int32_t *edges;
    long *edge_lines;
    tc_strindex by_name;
    tc_strindex edge_set;  // "parent child" of edges seen
} builder;

static int builder_init(builder *b) {
    memset(b, 0, sizeof *b);
    if (tc_strindex_init(&b->by_name)) return -1;
    if (tc_strindex_init(&b->edge_set)) {
        tc_strindex_free(&b->by_name);
        return -1;
    }
    return 0;
}

static void builder_free(builder *b) {
    for (int i = 0; i < b->n_names; i++) free(b->names[i]);
    free(b->names);
    free(b->name_lines);
    free(b->edges);
    free(b->edge_lines);
    tc_strindex_free(&b->by_name);
    tc_strindex_free(&b->edge_set);
}

// Sets slot `id` (growing the arrays); the caller checks duplicates.
static int builder_set_name(builder *b, int id, const char *name, long line) {
    if (id >= b->names_cap) {
        int cap = b->names_cap ? b->names_cap : 64;
        while (cap <= id) cap *= 2;
        char **n = tc_realloc(b->names, (size_t)cap * sizeof *n);
        if (!n) return -1;
        b->names = n;
        long *l = tc_realloc(b->name_lines, (size_t)cap * sizeof *l);
        if (!l) return -1;
        b->name_lines = l;
        for (int i = b->names_cap; i < cap; i++) b->names[i] = NULL;
        b->names_cap = cap;
    }
    if (!(b->names[id] = strdup(name))) return tc_fail("out of memory");
    b->name_lines[id] = line;
    if (id >= b->n_names) b->n_names = id + 1;
    return 0;
}

// Adds an edge; 1 if it was there already (nothing added), -1 on failure.
static int builder_add_edge(builder *b, int32_t parent, int32_t child, long line) {
    char key[32];
    int len = snprintf(key, sizeof key, "%d %d", (int)parent, (int)child), added;
    if (tc_strindex_add(&b->edge_set, key, (size_t)len, &added) < 0) return -1;
    if (!added) return 1;
    if (b->n_edges == b->edges_cap) {
        int cap = b->edges_cap ? b->edges_cap * 2 : 64;
        int32_t *e = tc_realloc(b->edges, (size_t)cap * 2 * sizeof *e);
        if (!e) return -1;
        b->edges = e;
        long *l = tc_realloc(b->edge_lines, (size_t)cap * sizeof *l);
        if (!l) return -1;
        b->edge_lines = l;
        b->edges_cap = cap;
    }
    b->edges[2 * b->n_edges] = parent;
    b->edges[2 * b->n_edges + 1] = child;
    b->edge_lines[b->n_edges++] = line;
    return 0;
}

static int builder_finish(builder *b, tc_taxonomy *t, const char *where) {
    if (tc_taxonomy_init(t, b->n_names, (const char *const *)b->names, b->n_edges, b->edges))
        return tc_fail_context("%s", where);
    return 0;
}

// Removes spaces at both ends in place.
static char *trim(char *s) {
    while (*s == ' ') s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ') s[--n] = 0;
    return s;
}

// The rule of tc_taxonomy_init (no control character in a name), checked
// where the line is known.
static int check_name(const char *path, long line, const char *name) {
    const char *bad = tc_unprintable(name);
    if (!bad) return 0;
    char shown[256], byte[8];
    return tc_fail("%s: line %ld: the class name '%s' has a control character (%s) in it", path, line,
                   tc_escape(shown, sizeof shown, name), tc_escape(byte, sizeof byte, (const char[]){*bad, 0}));
}

static int parse_id(const char *s, long *id) {
    char *end;
    errno = 0;
    *id = strtol(s, &end, 10);
    // ids index arrays, so a bound keeps a stray huge id from exhausting memory
    return errno || end == s || *end || *id < 0 || *id >= (1L << 24) ? -1 : 0;
}

// ---------------------------------------------------------------- TELEClass layout

// Splits "a<TAB>b" into trimmed fields; -1 without a tab.
static int split_tab(char *line, char **a, char **b) {
    char *tab = strchr(line, '\t');
    if (!tab) return -1;
    *tab = 0;
    *a = trim(line);
    *b = trim(tab + 1);
    return 0;
}

static long *grow_lines(long *lines, int64_t *cap) {
    int64_t n = *cap ? *cap * 2 : 256;
    long *l = tc_realloc(lines, (size_t)n * sizeof *l);
    if (!l) {
        free(lines);
        return NULL;
    }
    *cap = n;
    return l;
}

static int read_labels(builder *b, const char *path) {
    FILE *f = tc_input_open(path);
    if (!f) return -1;
    char *line = NULL, *id_text, *name;
    size_t cap = 0;
    long n, line_no = 0, id, *label_lines = NULL;
    int64_t lines_cap = 0;
    int rc = 0;
    while (rc == 0 && (n = tc_read_text_line(f, &line, &cap, &line_no)) >= 0) {
        if (n == 0 || !trim(line)[0]) continue;
        if (split_tab(line, &id_text, &name)) rc = tc_fail("%s: line %ld: expected 'id<TAB>name'", path, line_no);
        else if (parse_id(id_text, &id)) rc = tc_fail("%s: line %ld: '%s' is not a class id", path, line_no, id_text);
        else if (!name[0]) rc = tc_fail("%s: line %ld: class %ld has an empty name", path, line_no, id);
        else if (!tct_utf8_valid(name, strlen(name))) rc = tc_fail("%s: line %ld: the name is not UTF-8", path, line_no);
        else if (check_name(path, line_no, name)) rc = -1;
        else if (id < b->n_names && b->names[id])
            rc = tc_fail("%s: line %ld: duplicate class id %ld (first on line %ld)", path, line_no, id, b->name_lines[id]);
        else {
            // names are interned in file order, so the index id of a name is
            // the position of its first line among the labels read
            int added;
            int64_t k = tc_strindex_add(&b->by_name, name, strlen(name), &added);
            if (k < 0) rc = -1;
            else if (!added)
                rc = tc_fail("%s: line %ld: duplicate class name '%s' (first on line %ld)", path, line_no, name,
                             label_lines[k]);
            else if (k >= lines_cap && !(label_lines = grow_lines(label_lines, &lines_cap))) rc = -1;
            else {
                label_lines[k] = line_no;
                rc = builder_set_name(b, (int)id, name, line_no);
            }
        }
    }
    free(label_lines);
    if (rc == 0 && n == -2) rc = tc_fail_context("%s: line %ld", path, line_no + 1);
    free(line);
    tc_input_close(f);
    if (rc) return rc;
    if (!b->n_names) return tc_fail("%s: no classes", path);
    for (int i = 0; i < b->n_names; i++)
        if (!b->names[i]) return tc_fail("%s: class ids must be 0..%d, but id %d is missing", path, b->n_names - 1, i);
    return 0;
}

static int read_hierarchy(builder *b, const char *path) {
    FILE *f = tc_input_open(path);
    if (!f) return -1;
    char *line = NULL, *pt, *ct;
    size_t cap = 0;
    long n, line_no = 0, p, c;
    int rc = 0;
    while (rc == 0 && (n = tc_read_text_line(f, &line, &cap, &line_no)) >= 0) {
        if (n == 0 || !trim(line)[0]) continue;
        if (split_tab(line, &pt, &ct)) rc = tc_fail("%s: line %ld: expected 'parent<TAB>child'", path, line_no);
        else if (parse_id(pt, &p) || p >= b->n_names)
            rc = tc_fail("%s: line %ld: unknown class id '%s' (ids are 0..%d)", path, line_no, pt, b->n_names - 1);
        else if (parse_id(ct, &c) || c >= b->n_names)
            rc = tc_fail("%s: line %ld: unknown class id '%s' (ids are 0..%d)", path, line_no, ct, b->n_names - 1);
        else if (p == c)
            rc = tc_fail("%s: line %ld: self-loop: class '%s' (%ld) is its own parent", path, line_no, b->names[p], p);
        else {
            int dup = builder_add_edge(b, (int32_t)p, (int32_t)c, line_no);
            if (dup == 1) {
                long first = 0;
                for (int e = 0; e < b->n_edges; e++)
                    if (b->edges[2 * e] == p && b->edges[2 * e + 1] == c) first = b->edge_lines[e];
                rc = tc_fail("%s: line %ld: duplicate edge '%s' > '%s' (first on line %ld)", path, line_no, b->names[p],
                             b->names[c], first);
            } else {
                rc = dup;
            }
        }
    }
    if (rc == 0 && n == -2) rc = tc_fail_context("%s: line %ld", path, line_no + 1);
    free(line);
    tc_input_close(f);
    return rc;
}

static int check_isolated(const builder *b, const char *hierarchy_path) {
    if (!b->n_edges) return 0;
    uint8_t *in_edge = tc_calloc((size_t)b->n_names, 1);
    if (!in_edge) return -1;
    for (int e = 0; e < 2 * b->n_edges; e++) in_edge[b->edges[e]] = 1;
    int rc = 0;
    for (int i = 0; i < b->n_names && rc == 0; i++)
        if (!in_edge[i])
            rc = tc_fail("%s: class '%s' (%d) is in no edge of the hierarchy: no root reaches it",
                         hierarchy_path, b->names[i], i);
    free(in_edge);
    return rc;
}

int tc_taxonomy_read_teleclass(tc_taxonomy *t, const char *labels_path, const char *hierarchy_path,
                               int allow_isolated) {
    memset(t, 0, sizeof *t);
    builder b;
    if (builder_init(&b)) return -1;
    int rc = read_labels(&b, labels_path);
    if (rc == 0 && hierarchy_path) rc = read_hierarchy(&b, hierarchy_path);
    if (rc == 0 && hierarchy_path && !allow_isolated) rc = check_isolated(&b, hierarchy_path);
    if (rc == 0) rc = builder_finish(&b, t, hierarchy_path ? hierarchy_path : labels_path);
    builder_free(&b);
    return rc;
}

// ---------------------------------------------------------------- YAML

typedef struct {
    builder *b;
    yaml_document_t *doc;
    const char *path;
} yaml_walk;

static long node_line(const yaml_node_t *n) { return (long)n->start_mark.line + 1; }

// The id of a class named by a scalar node, adding the class if new.
static int class_of(yaml_walk *w, yaml_node_t *n, int32_t *id) {
    if (n->type != YAML_SCALAR_NODE)
        return tc_fail("%s: line %ld: expected a class name, found a %s", w->path, node_line(n),
                       n->type == YAML_MAPPING_NODE ? "mapping" : "sequence");
    if (memchr(n->data.scalar.value, 0, n->data.scalar.length))
        return tc_fail("%s: line %ld: a class name holds a NUL byte", w->path, node_line(n));
    char *name = strndup((const char *)n->data.scalar.value, n->data.scalar.length);
    if (!name) return tc_fail("out of memory");
    char *s = trim(name);
    int rc = 0;
    if (!s[0]) rc = tc_fail("%s: line %ld: empty class name", w->path, node_line(n));
    else rc = check_name(w->path, node_line(n), s);
    if (rc == 0) {
        int added;
        int64_t k = tc_strindex_add(&w->b->by_name, s, strlen(s), &added);
        if (k < 0) rc = -1;
        else if (added) rc = builder_set_name(w->b, (int)k, s, node_line(n));
        *id = (int32_t)k;
    }
    free(name);
    return rc;
}

static int add_children(yaml_walk *w, int32_t parent, yaml_node_t *value, int depth);

// A child under `parent` (parent < 0: top level) with its own children.
static int add_child(yaml_walk *w, int32_t parent, yaml_node_t *key, yaml_node_t *value, int depth) {
    int32_t id = -1;
    if (class_of(w, key, &id)) return -1;
    if (parent >= 0) {
        const char *pn = w->b->names[parent], *cn = w->b->names[id];
        if (parent == id)
            return tc_fail("%s: line %ld: self-loop: class '%s' is listed under itself", w->path, node_line(key), cn);
        int dup = builder_add_edge(w->b, parent, id, node_line(key));
        if (dup == 1) return tc_fail("%s: line %ld: '%s' is listed twice under '%s'", w->path, node_line(key), cn, pn);
        if (dup < 0) return -1;
    }
    return value ? add_children(w, id, value, depth + 1) : 0;
}

static int add_children(yaml_walk *w, int32_t parent, yaml_node_t *value, int depth) {
    if (depth > 1000) return tc_fail("%s: line %ld: nested too deeply", w->path, node_line(value));
    if (value->type == YAML_SCALAR_NODE) {
        if (value->data.scalar.length == 0 || (value->data.scalar.length == 1 && value->data.scalar.value[0] == '~') ||
            (value->data.scalar.length == 4 && !memcmp(value->data.scalar.value, "null", 4)))
            return 0;  // a leaf
        return add_child(w, parent, value, NULL, depth);
    }
    if (value->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = value->data.mapping.pairs.start; p < value->data.mapping.pairs.top; p++)
            if (add_child(w, parent, yaml_document_get_node(w->doc, p->key), yaml_document_get_node(w->doc, p->value),
                          depth))
                return -1;
        return 0;
    }
    for (yaml_node_item_t *i = value->data.sequence.items.start; i < value->data.sequence.items.top; i++) {
        yaml_node_t *item = yaml_document_get_node(w->doc, *i);
        if (item->type == YAML_MAPPING_NODE) {
            if (add_children(w, parent, item, depth + 1)) return -1;
        } else if (item->type == YAML_SEQUENCE_NODE) {
            return tc_fail("%s: line %ld: a list inside a list; expected names or 'name: children'", w->path,
                           node_line(item));
        } else if (add_child(w, parent, item, NULL, depth)) {
            return -1;
        }
    }
    return 0;
}

// A taxonomy of a million classes is a file of tens of MiB: aliases (one
// subtree under several parents) may add this much to what it holds.
static const tc_yaml_limits taxonomy_limits = {.max_depth = 1000, .max_expansion = 64 << 20};

int tc_taxonomy_read_yaml(tc_taxonomy *t, const char *path) {
    memset(t, 0, sizeof *t);
    FILE *f = tc_input_open(path);
    if (!f) return -1;
    yaml_document_t doc;
    int rc = tc_yaml_load(f, path, &taxonomy_limits, &doc);
    tc_input_close(f);
    if (rc) return -1;
    builder b;
    rc = builder_init(&b);
    if (rc == 0) {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        yaml_walk w = {&b, &doc, path};
        if (!root) rc = tc_fail("%s: no classes (the file is empty)", path);
        else if (root->type == YAML_SCALAR_NODE)
            rc = tc_fail("%s: line %ld: expected a mapping or a list of classes", path, node_line(root));
        if (rc == 0) rc = add_children(&w, -1, root, 0);
        if (rc == 0) rc = builder_finish(&b, t, path);
        builder_free(&b);
    }
    yaml_document_delete(&doc);
    return rc;
}
