#include "common/cli/yaml_load.h"
#include "common/error.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { NODE_COST = 8 };  // what a node weighs besides its text, in bytes

// What the walk knows of each node of the document (indexed from 0).
typedef struct {
    yaml_document_t *doc;
    const char *path;
    const tc_yaml_limits *limits;
    uint64_t budget;        // the largest expanded size allowed for the whole tree
    uint8_t *state;         // 0 unseen, 1 being walked, 2 done
    uint64_t *size;         // expanded size of the node's tree, saturating at budget + 1
    int *height;            // deepest level below the node, aliases followed
    size_t *deepest_line;   // the line of the node at that level
} walk;

static size_t line_of(const yaml_node_t *n) { return n->start_mark.line + 1; }

static uint64_t add_capped(uint64_t a, uint64_t b, uint64_t cap) { return a + b > cap ? cap : a + b; }

static int visit(walk *w, yaml_node_t *n, int depth);

// Folds child `index` (a node id, from 1) into its parent's size and height.
static int visit_child(walk *w, int index, int depth, uint64_t *size, int *height, size_t *line) {
    yaml_node_t *child = yaml_document_get_node(w->doc, index);
    if (!child) return tc_fail("%s: a node refers to a missing node", w->path);
    if (visit(w, child, depth + 1)) return -1;
    size_t k = (size_t)(child - w->doc->nodes.start);
    *size = add_capped(*size, w->size[k], w->budget + 1);
    if (w->height[k] + 1 > *height) {
        *height = w->height[k] + 1;
        *line = w->deepest_line[k];
    }
    return 0;
}

// Computes the node's expanded size and height once; a node met again
// through an alias reuses them, so the walk costs one visit per node and
// per edge however much the aliases multiply the tree.
static int visit(walk *w, yaml_node_t *n, int depth) {
    size_t k = (size_t)(n - w->doc->nodes.start);
    int max_depth = w->limits->max_depth;
    if (w->state[k] == 1)
        return tc_fail("%s: line %zu: an alias inside the node it names (the tree would never end)", w->path,
                       line_of(n));
    if (w->state[k] == 2) {
        if (depth + w->height[k] > max_depth)
            return tc_fail("%s: line %zu: nested more than %d levels deep", w->path, w->deepest_line[k], max_depth);
        return 0;
    }
    if (depth > max_depth) return tc_fail("%s: line %zu: nested more than %d levels deep", w->path, line_of(n), max_depth);
    w->state[k] = 1;
    uint64_t size = NODE_COST;
    int height = 0;
    size_t line = line_of(n);
    if (n->type == YAML_SCALAR_NODE) {
        size = add_capped(size, n->data.scalar.length, w->budget + 1);
    } else if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++)
            if (visit_child(w, *i, depth, &size, &height, &line)) return -1;
    } else if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
            if (visit_child(w, p->key, depth, &size, &height, &line) ||
                visit_child(w, p->value, depth, &size, &height, &line))
                return -1;
    }
    if (size > w->budget)
        return tc_fail("%s: line %zu: aliases expand the document by more than %zu KiB", w->path, line_of(n),
                       w->limits->max_expansion >> 10);
    w->state[k] = 2;
    w->size[k] = size;
    w->height[k] = height;
    w->deepest_line[k] = line;
    return 0;
}

static int check_tree(yaml_document_t *doc, const char *path, const tc_yaml_limits *limits) {
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!root) return 0;
    size_t n = (size_t)(doc->nodes.top - doc->nodes.start);
    walk w = {doc, path, limits, limits->max_expansion, NULL, NULL, NULL, NULL};
    for (yaml_node_t *node = doc->nodes.start; node < doc->nodes.top; node++) {  // the tree as written
        w.budget += NODE_COST;
        if (node->type != YAML_SCALAR_NODE) continue;
        w.budget += node->data.scalar.length;
        // a "\0" escape: every reader takes scalars as C strings and would
        // silently keep only what comes before it
        if (memchr(node->data.scalar.value, 0, node->data.scalar.length))
            return tc_fail("%s: line %zu: a value holds a NUL byte", path, line_of(node));
    }
    w.state = tc_calloc(n, sizeof *w.state);
    w.size = tc_calloc(n, sizeof *w.size);
    w.height = tc_calloc(n, sizeof *w.height);
    w.deepest_line = tc_calloc(n, sizeof *w.deepest_line);
    int rc = w.state && w.size && w.height && w.deepest_line ? visit(&w, root, 0) : -1;
    free(w.state);
    free(w.size);
    free(w.height);
    free(w.deepest_line);
    return rc;
}

static int syntax_error(const yaml_parser_t *parser, const char *path) {
    return tc_fail("%s: line %zu: %s", path, parser->problem_mark.line + 1,
                   parser->problem ? parser->problem : "not valid YAML");
}

typedef struct {
    FILE *f;
    size_t left;     // bytes the file may still hold
    int too_long;
    int error;       // errno of a failed read
} bounded_input;

static int read_bounded(void *data, unsigned char *buffer, size_t size, size_t *size_read) {
    bounded_input *in = data;
    errno = 0;
    if (size > in->left + 1) size = in->left + 1;  // one byte more tells a file that is too long
    *size_read = fread(buffer, 1, size, in->f);
    if (*size_read > in->left) {
        in->too_long = 1;
        return 0;
    }
    in->left -= *size_read;
    if (ferror(in->f)) in->error = errno ? errno : EIO;
    return !in->error;
}

// Why yaml_parser_load failed: the file's size, a read, or its syntax.
static int load_error(const yaml_parser_t *parser, const bounded_input *in, const char *path,
                      const tc_yaml_limits *limits) {
    if (in->too_long) return tc_fail("%s: longer than %zu KiB", path, limits->max_bytes >> 10);
    if (in->error) return tc_fail("%s: read failed: %s", path, strerror(in->error));
    return syntax_error(parser, path);
}

int tc_yaml_load(FILE *f, const char *path, const tc_yaml_limits *limits, yaml_document_t *doc) {
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) return tc_fail("out of memory");
    bounded_input in = {f, limits->max_bytes ? limits->max_bytes : SIZE_MAX - 1, 0, 0};
    yaml_parser_set_input(&parser, read_bounded, &in);
    if (!yaml_parser_load(&parser, doc)) {
        int rc = load_error(&parser, &in, path, limits);
        yaml_parser_delete(&parser);
        return rc;
    }
    int rc = check_tree(doc, path, limits);
    if (rc == 0 && yaml_document_get_root_node(doc)) {
        // what follows the first document would otherwise be dropped unread
        yaml_document_t next;
        if (!yaml_parser_load(&parser, &next)) {
            rc = load_error(&parser, &in, path, limits);
        } else {
            yaml_node_t *extra = yaml_document_get_root_node(&next);
            if (extra)
                rc = tc_fail("%s: line %zu: a second YAML document; the file must hold one", path, line_of(extra));
            yaml_document_delete(&next);
        }
    }
    yaml_parser_delete(&parser);
    if (rc) yaml_document_delete(doc);
    return rc;
}
