// The label taxonomy: construction with validation, loading and writing the
// taxonomy tensors, ancestors, descendants and root-to-leaf paths.
#include "common/taxonomy/taxonomy.h"
#include "common/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tc_taxonomy_free(tc_taxonomy *t) {
    if (!t) return;
    for (int i = 0; t->names && i < t->n_classes; i++) free(t->names[i]);
    for (int i = 0; t->terms && i < t->n_terms; i++) free(t->terms[i]);
    free(t->names);
    free(t->edges);
    free(t->depth);
    free(t->roots);
    free(t->parent_offsets);
    free(t->parents);
    free(t->child_offsets);
    free(t->children);
    free(t->terms);
    free(t->term_class);
    memset(t, 0, sizeof *t);
}

// ---------------------------------------------------------------- checks

static const char *const *sort_names;

static int compare_name_index(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    int c = strcmp(sort_names[i], sort_names[j]);
    return c ? c : (i > j) - (i < j);
}

// Names and key terms reach terminals and one-line formats as they are
// (trees, paths, TSV, prompts), so a control character (C0, DEL, C1: an
// escape sequence, a tab, a newline) or a byte that is not UTF-8 is
// refused wherever a taxonomy comes from; the message shows it escaped.
static int check_printable(const char *text, const char *what, int index) {
    const char *bad = tc_unprintable(text);
    if (!bad) return 0;
    char shown[256], byte[8];
    return tc_fail("%s %d ('%s') has a control character (%s) in it", what, index, tc_escape(shown, sizeof shown, text),
                   tc_escape(byte, sizeof byte, (const char[]){*bad, 0}));
}

static int check_names(int n, const char *const *names) {
    if (n <= 0) return tc_fail("the taxonomy has no classes");
    for (int i = 0; i < n; i++) {
        if (!names[i] || !names[i][0]) return tc_fail("class %d has an empty name", i);
        if (check_printable(names[i], "the name of class", i)) return -1;
    }
    int *order = tc_malloc_array((size_t)n, sizeof *order);
    if (!order) return -1;
    for (int i = 0; i < n; i++) order[i] = i;
    sort_names = names;  // qsort has no context argument in C11
    qsort(order, (size_t)n, sizeof *order, compare_name_index);
    int rc = 0;
    for (int k = 1; k < n && rc == 0; k++)
        if (!strcmp(names[order[k - 1]], names[order[k]]))
            rc = tc_fail("duplicate class name '%s' (classes %d and %d)", names[order[k]], order[k - 1], order[k]);
    free(order);
    return rc;
}

static int compare_edge(const void *a, const void *b) {
    const int32_t *x = a, *y = b;
    if (x[0] != y[0]) return (x[0] > y[0]) - (x[0] < y[0]);
    return (x[1] > y[1]) - (x[1] < y[1]);
}

static int check_edges(int n, const char *const *names, int n_edges, const int32_t *edges) {
    for (int e = 0; e < n_edges; e++) {
        int32_t p = edges[2 * e], c = edges[2 * e + 1];
        if (p < 0 || p >= n || c < 0 || c >= n)
            return tc_fail("edge %d (%" PRId32 " > %" PRId32 ") names a class id outside 0..%d", e, p, c, n - 1);
        if (p == c) return tc_fail("self-loop: class '%s' (%d) is its own parent", names[p], p);
    }
    if (n_edges < 2) return 0;
    int32_t *sorted = tc_malloc_array((size_t)n_edges * 2, sizeof *sorted);
    if (!sorted) return -1;
    memcpy(sorted, edges, (size_t)n_edges * 2 * sizeof *sorted);
    qsort(sorted, (size_t)n_edges, 2 * sizeof *sorted, compare_edge);
    int rc = 0;
    for (int e = 1; e < n_edges && rc == 0; e++)
        if (!compare_edge(sorted + 2 * e - 2, sorted + 2 * e))
            rc = tc_fail("duplicate edge '%s' > '%s' (%d > %d)", names[sorted[2 * e]], names[sorted[2 * e + 1]],
                         sorted[2 * e], sorted[2 * e + 1]);
    free(sorted);
    return rc;
}

// CSR adjacency grouped by `from`, neighbours in edge order.
static int build_adjacency(int n, int n_edges, const int32_t *edges, int from, int32_t **offsets, int32_t **adj) {
    *offsets = tc_calloc((size_t)n + 1, sizeof **offsets);
    *adj = tc_malloc_array((size_t)(n_edges ? n_edges : 1), sizeof **adj);
    int32_t *fill = tc_calloc((size_t)n, sizeof *fill);
    if (!*offsets || !*adj || !fill) {
        free(fill);
        return -1;
    }
    for (int e = 0; e < n_edges; e++) (*offsets)[edges[2 * e + from] + 1]++;
    for (int i = 0; i < n; i++) (*offsets)[i + 1] += (*offsets)[i];
    for (int e = 0; e < n_edges; e++) {
        int32_t v = edges[2 * e + from];
        (*adj)[(*offsets)[v] + fill[v]++] = edges[2 * e + 1 - from];
    }
    free(fill);
    return 0;
}

// Writes "a > b > ... > a" for the cycle stack[at..top] closed by stack[at].
static int fail_cycle(const tc_taxonomy *t, const int32_t *stack, int at, int top) {
    char text[900];
    size_t used = 0;
    for (int k = at; k <= top + 1 && used < sizeof text; k++) {
        int v = k <= top ? stack[k] : stack[at];
        int w = snprintf(text + used, sizeof text - used, "%s%s", k > at ? " > " : "", t->names[v]);
        if (w < 0) break;
        used += (size_t)w;
    }
    if (used >= sizeof text) memcpy(text + sizeof text - 4, "...", 4);
    return tc_fail("cycle: %s", text);
}

// Classes no top-level class reaches lie on or below a cycle: walking up
// first parents from one must come back to a class already passed.
static int check_reachable(const tc_taxonomy *t) {
    int n = t->n_classes, rc = 0;
    uint8_t *reached = tc_calloc((size_t)n, 1);
    int32_t *queue = tc_malloc_array((size_t)n, sizeof *queue);
    int32_t *seen_at = tc_malloc_array((size_t)n, sizeof *seen_at);
    if (!reached || !queue || !seen_at) rc = -1;
    int head = 0, tail = 0;
    for (int i = 0; i < n && rc == 0; i++)
        if (t->parent_offsets[i] == t->parent_offsets[i + 1]) reached[queue[tail++] = i] = 1;
    while (head < tail) {
        int v = queue[head++];
        for (int32_t k = t->child_offsets[v]; k < t->child_offsets[v + 1]; k++)
            if (!reached[t->children[k]]) reached[queue[tail++] = t->children[k]] = 1;
    }
    for (int u = 0; u < n && rc == 0; u++) {
        if (reached[u]) continue;
        for (int i = 0; i < n; i++) seen_at[i] = -1;
        int len = 0, v = u;
        while (seen_at[v] < 0) {  // queue holds the walk, child first
            seen_at[v] = len;
            queue[len++] = v;
            v = t->parents[t->parent_offsets[v]];
        }
        // the cycle is queue[seen_at[v] .. len), parents later: print it reversed
        int32_t *cycle = queue + seen_at[v];
        int m = len - seen_at[v];
        for (int i = 0; i < m / 2; i++) {
            int32_t x = cycle[i];
            cycle[i] = cycle[m - 1 - i];
            cycle[m - 1 - i] = x;
        }
        fail_cycle(t, cycle, 0, m - 1);
        char text[1024];
        snprintf(text, sizeof text, "%s", tc_error() + strlen("cycle: "));
        rc = tc_fail("class '%s' (%d) is unreachable from a root: it is on or below the cycle %s", t->names[u], u, text);
    }
    free(reached);
    free(queue);
    free(seen_at);
    return rc;
}

// Depth-first search with colours (0 new, 1 on the stack, 2 done); a child
// found on the stack closes a cycle.
static int check_acyclic(const tc_taxonomy *t) {
    int n = t->n_classes, rc = 0;
    uint8_t *colour = tc_calloc((size_t)n, 1);
    int32_t *stack = tc_malloc_array((size_t)n, sizeof *stack);
    int32_t *next = tc_malloc_array((size_t)n, sizeof *next);
    if (!colour || !stack || !next) rc = -1;
    for (int start = 0; start < n && rc == 0; start++) {
        if (colour[start]) continue;
        int top = 0;
        stack[0] = start;
        next[0] = t->child_offsets[start];
        colour[start] = 1;
        while (top >= 0 && rc == 0) {
            int v = stack[top];
            if (next[top] == t->child_offsets[v + 1]) {
                colour[v] = 2;
                top--;
                continue;
            }
            int w = t->children[next[top]++];
            if (colour[w] == 1) {
                int at = top;
                while (stack[at] != w) at--;
                rc = fail_cycle(t, stack, at, top);
            } else if (colour[w] == 0) {
                colour[w] = 1;
                stack[++top] = w;
                next[top] = t->child_offsets[w];
            }
        }
    }
    free(colour);
    free(stack);
    free(next);
    return rc;
}

// Roots (no parent) in id order; depth by breadth-first search from them, so
// a class with several parents gets 1 + the smallest parent depth.
static int compute_roots_and_depth(tc_taxonomy *t) {
    int n = t->n_classes;
    t->roots = tc_malloc_array((size_t)n, sizeof *t->roots);
    t->depth = tc_malloc_array((size_t)n, sizeof *t->depth);
    int32_t *queue = tc_malloc_array((size_t)n, sizeof *queue);
    if (!t->roots || !t->depth || !queue) {
        free(queue);
        return -1;
    }
    t->n_roots = 0;
    int head = 0, tail = 0;
    for (int i = 0; i < n; i++) {
        t->depth[i] = 0;
        if (t->parent_offsets[i] == t->parent_offsets[i + 1]) {
            t->roots[t->n_roots++] = i;
            t->depth[i] = 1;
            queue[tail++] = i;
        }
    }
    t->max_depth = 0;
    while (head < tail) {
        int v = queue[head++];
        if (t->depth[v] > t->max_depth) t->max_depth = t->depth[v];
        for (int32_t k = t->child_offsets[v]; k < t->child_offsets[v + 1]; k++) {
            int w = t->children[k];
            if (!t->depth[w]) {
                t->depth[w] = t->depth[v] + 1;
                queue[tail++] = w;
            }
        }
    }
    free(queue);
    // Without cycles every class is reached; this guards the invariant.
    for (int i = 0; i < n; i++)
        if (!t->depth[i]) return tc_fail("class '%s' (%d) is unreachable from a root", t->names[i], i);
    return 0;
}

int tc_taxonomy_init(tc_taxonomy *t, int n_classes, const char *const *names, int n_edges, const int32_t *edges) {
    memset(t, 0, sizeof *t);
    if (n_edges < 0) return tc_fail("negative edge count");
    if (check_names(n_classes, names) || check_edges(n_classes, names, n_edges, edges)) return -1;
    t->n_classes = n_classes;
    t->names = tc_calloc((size_t)n_classes, sizeof *t->names);
    t->edges = tc_malloc_array((size_t)(n_edges ? n_edges : 1) * 2, sizeof *t->edges);
    if (!t->names || !t->edges) goto fail;
    for (int i = 0; i < n_classes; i++)
        if (!(t->names[i] = strdup(names[i]))) {
            tc_fail("out of memory");
            goto fail;
        }
    t->n_edges = n_edges;
    if (n_edges) memcpy(t->edges, edges, (size_t)n_edges * 2 * sizeof *edges);
    if (build_adjacency(n_classes, n_edges, edges, 1, &t->parent_offsets, &t->parents) ||
        build_adjacency(n_classes, n_edges, edges, 0, &t->child_offsets, &t->children) || check_reachable(t) ||
        check_acyclic(t) ||
        compute_roots_and_depth(t))
        goto fail;
    return 0;
fail:
    tc_taxonomy_free(t);
    return -1;
}

int tc_taxonomy_set_terms(tc_taxonomy *t, int n_terms, const char *const *terms, const int32_t *term_class) {
    for (int i = 0; i < n_terms; i++) {
        if (term_class[i] < 0 || term_class[i] >= t->n_classes)
            return tc_fail("key term %d ('%s') belongs to class id %" PRId32 ", outside 0..%d", i, terms[i],
                           term_class[i], t->n_classes - 1);
        if (!terms[i][0]) return tc_fail("key term %d of class '%s' is empty", i, t->names[term_class[i]]);
        if (check_printable(terms[i], "key term", i)) return -1;
    }
    char **copy = tc_calloc((size_t)(n_terms ? n_terms : 1), sizeof *copy);
    int32_t *classes = tc_malloc_array((size_t)(n_terms ? n_terms : 1), sizeof *classes);
    int rc = copy && classes ? 0 : -1;
    for (int i = 0; i < n_terms && rc == 0; i++)
        if (!(copy[i] = strdup(terms[i]))) rc = tc_fail("out of memory");
    if (rc) {
        for (int i = 0; copy && i < n_terms; i++) free(copy[i]);
        free(copy);
        free(classes);
        return -1;
    }
    if (n_terms) memcpy(classes, term_class, (size_t)n_terms * sizeof *classes);
    for (int i = 0; t->terms && i < t->n_terms; i++) free(t->terms[i]);
    free(t->terms);
    free(t->term_class);
    t->terms = copy;
    t->term_class = classes;
    t->n_terms = n_terms;
    return 0;
}

// ---------------------------------------------------------------- files

static int check_same(const char *what, const int32_t *given, const int32_t *computed, uint64_t n) {
    for (uint64_t i = 0; i < n; i++)
        if (given[i] != computed[i])
            return tc_fail("tensor '%s' disagrees with the edges at row %" PRIu64 " (%" PRId32 ", expected %" PRId32 ")",
                           what, i, given[i], computed[i]);
    return 0;
}

static int load_terms(tc_taxonomy *t, const tct_bundle *b, const char *where) {
    const tct_bundle_tensor *terms = tct_bundle_find(b, "terms");
    const tct_bundle_tensor *term_class = tct_bundle_find(b, "term_class");
    if (!terms && !term_class) return 0;
    if (!terms || !term_class) return tc_fail("%s: tensor '%s' without '%s'", where, terms ? "terms" : "term_class",
                                              terms ? "term_class" : "terms");
    if (!tct_bundle_expect(b, where, "terms", TCT_STR, 1) || !tct_bundle_expect(b, where, "term_class", TCT_I32, 1))
        return -1;
    if (terms->count != term_class->count)
        return tc_fail("%s: %" PRIu64 " terms but %" PRIu64 " term_class values", where, terms->count, term_class->count);
    if (terms->count > INT32_MAX) return tc_fail("%s: too many terms", where);
    if (tc_taxonomy_set_terms(t, (int)terms->count, (const char *const *)terms->data, term_class->data))
        return tc_fail_context("%s", where);
    return 0;
}

int tc_taxonomy_from_bundle(tc_taxonomy *t, const tct_bundle *b, const char *where) {
    memset(t, 0, sizeof *t);
    const tct_bundle_tensor *names = tct_bundle_expect(b, where, "class_names", TCT_STR, 1), *edges;
    if (!names || !(edges = tct_bundle_expect(b, where, "edges", TCT_I32, 2))) return -1;
    if (edges->dims[1] != 2) return tc_fail("%s: tensor 'edges' has %" PRIu64 " columns, expected 2", where, edges->dims[1]);
    if (names->count > INT32_MAX || edges->dims[0] > INT32_MAX) return tc_fail("%s: taxonomy too large", where);
    if (tc_taxonomy_init(t, (int)names->count, (const char *const *)names->data, (int)edges->dims[0], edges->data))
        return tc_fail_context("%s", where);
    const tct_bundle_tensor *depth = tct_bundle_find(b, "depth");
    const tct_bundle_tensor *roots = tct_bundle_find(b, "roots");
    int rc = 0;
    if (depth) {
        if (!tct_bundle_expect(b, where, "depth", TCT_I32, 1)) rc = -1;
        else if (depth->count != (uint64_t)t->n_classes)
            rc = tc_fail("%s: 'depth' has %" PRIu64 " values for %d classes", where, depth->count, t->n_classes);
        else if (check_same("depth", depth->data, t->depth, depth->count)) rc = tc_fail_context("%s", where);
    }
    if (rc == 0 && roots) {
        if (!tct_bundle_expect(b, where, "roots", TCT_I32, 1)) rc = -1;
        else if (roots->count != (uint64_t)t->n_roots)
            rc = tc_fail("%s: 'roots' has %" PRIu64 " classes, the edges give %d", where, roots->count, t->n_roots);
        else if (check_same("roots", roots->data, t->roots, roots->count)) rc = tc_fail_context("%s", where);
    }
    if (rc == 0) rc = load_terms(t, b, where);
    if (rc) tc_taxonomy_free(t);
    return rc;
}

int tc_taxonomy_load(tc_taxonomy *t, const char *path) {
    memset(t, 0, sizeof *t);
    tct_bundle b;
    if (tct_bundle_load(&b, path)) return -1;
    int rc = tc_taxonomy_from_bundle(t, &b, path);
    tct_bundle_free(&b);
    return rc;
}

int tc_taxonomy_write(const tc_taxonomy *t, tct_writer *w) {
    uint64_t c = (uint64_t)t->n_classes, e[2] = {(uint64_t)t->n_edges, 2}, r = (uint64_t)t->n_roots;
    tct_attr virtual_root = {"virtual_root", t->n_roots > 1 ? "yes" : "no"};
    if (tct_writer_string_tensor(w, "class_names", (const char *const *)t->names, c, NULL, 0) ||
        tct_writer_tensor(w, "edges", TCT_I32, 2, e, t->edges, NULL, 0) ||
        tct_writer_tensor(w, "depth", TCT_I32, 1, &c, t->depth, NULL, 0) ||
        tct_writer_tensor(w, "roots", TCT_I32, 1, &r, t->roots, &virtual_root, 1))
        return -1;
    if (t->n_terms <= 0) return 0;
    uint64_t n = (uint64_t)t->n_terms;
    return tct_writer_string_tensor(w, "terms", (const char *const *)t->terms, n, NULL, 0) ||
                   tct_writer_tensor(w, "term_class", TCT_I32, 1, &n, t->term_class, NULL, 0)
               ? -1
               : 0;
}

// ---------------------------------------------------------------- queries

int tc_taxonomy_find(const tc_taxonomy *t, const char *name) {
    for (int i = 0; i < t->n_classes; i++)
        if (!strcmp(t->names[i], name)) return i;
    return -1;
}

int tc_taxonomy_is_leaf(const tc_taxonomy *t, int c) { return t->child_offsets[c] == t->child_offsets[c + 1]; }

// Without memory for a visited set: plain recursion (correct, slower on
// DAGs with many shared descendants).
static void mark_recursive(const int32_t *offsets, const int32_t *adj, int c, uint8_t *mark) {
    for (int32_t k = offsets[c]; k < offsets[c + 1]; k++) {
        mark[adj[k]] = 1;
        mark_recursive(offsets, adj, adj[k], mark);
    }
}

// Marks everything reachable from c along adj. A private visited set keeps
// marks the caller made earlier from cutting the walk short.
static void mark_reachable(const int32_t *offsets, const int32_t *adj, int n, int c, uint8_t *mark) {
    uint8_t *seen = calloc((size_t)n, 1);
    int32_t *stack = malloc((size_t)n * sizeof *stack);
    if (!seen || !stack) {
        free(seen);
        free(stack);
        mark_recursive(offsets, adj, c, mark);
        return;
    }
    int top = 0;
    stack[top++] = c;
    seen[c] = 1;
    while (top > 0) {
        int v = stack[--top];
        for (int32_t k = offsets[v]; k < offsets[v + 1]; k++) {
            int w = adj[k];
            if (seen[w]) continue;
            seen[w] = 1;
            mark[w] = 1;
            stack[top++] = w;
        }
    }
    free(seen);
    free(stack);
}

void tc_taxonomy_mark_ancestors(const tc_taxonomy *t, int c, uint8_t *mark) {
    mark_reachable(t->parent_offsets, t->parents, t->n_classes, c, mark);
}

void tc_taxonomy_mark_descendants(const tc_taxonomy *t, int c, uint8_t *mark) {
    mark_reachable(t->child_offsets, t->children, t->n_classes, c, mark);
}

int64_t tc_taxonomy_paths(const tc_taxonomy *t, int (*visit)(const int32_t *path, int length, void *context),
                          void *context) {
    if (tc_taxonomy_check_paths(t, "a walk over the paths", TC_PATHS_MAX, TC_PATH_CLASSES_MAX)) return -1;
    int n = t->n_classes;
    int32_t *path = malloc((size_t)(n ? n : 1) * sizeof *path);   // a path has at most n classes
    int32_t *next = malloc((size_t)(n ? n : 1) * sizeof *next);
    if (!path || !next) {
        free(path);
        free(next);
        tc_fail("out of memory");
        return -1;
    }
    int64_t count = 0;
    for (int r = 0; r < t->n_roots; r++) {
        int top = 0;
        path[0] = t->roots[r];
        next[0] = t->child_offsets[path[0]];
        while (top >= 0) {
            int v = path[top];
            if (tc_taxonomy_is_leaf(t, v)) {
                count++;
                if (visit && visit(path, top + 1, context)) {
                    free(path);
                    free(next);
                    return -1;
                }
                top--;
            } else if (next[top] == t->child_offsets[v + 1]) {
                top--;
            } else {
                int w = t->children[next[top]++];
                path[++top] = w;
                next[top] = t->child_offsets[w];
            }
        }
    }
    free(path);
    free(next);
    return count;
}

int tc_taxonomy_bottom_up(const tc_taxonomy *t, int32_t *order) {
    int n = t->n_classes;
    int32_t *waiting = tc_malloc_array((size_t)n + 1, sizeof *waiting);  // children not yet placed
    if (!waiting) return -1;
    int placed = 0;
    for (int c = 0; c < n; c++) {
        waiting[c] = t->child_offsets[c + 1] - t->child_offsets[c];
        if (waiting[c] == 0) order[placed++] = c;
    }
    for (int i = 0; i < placed; i++) {
        int c = order[i];
        for (int32_t k = t->parent_offsets[c]; k < t->parent_offsets[c + 1]; k++)
            if (--waiting[t->parents[k]] == 0) order[placed++] = t->parents[k];
    }
    free(waiting);
    // the taxonomy was checked to be acyclic when it was built
    return placed == n ? 0 : tc_fail("the taxonomy has a cycle");
}

static int64_t add_saturated(int64_t a, int64_t b) { return a > TC_PATHS_SATURATED - b ? TC_PATHS_SATURATED : a + b; }

// paths(c) = 1 for a leaf, else the sum over its children; classes(c) =
// paths(c) (c is on each) + the sum over its children. Bottom-up order
// has every child before its parents.
int tc_taxonomy_path_totals(const tc_taxonomy *t, tc_path_totals *totals) {
    int n = t->n_classes;
    int32_t *order = tc_malloc_array((size_t)(n ? n : 1), sizeof *order);
    tc_path_totals *below = tc_malloc_array((size_t)(n ? n : 1), sizeof *below);
    int rc = order && below ? tc_taxonomy_bottom_up(t, order) : -1;
    for (int i = 0; i < n && rc == 0; i++) {
        int c = order[i];
        tc_path_totals sum = {0, 0};
        for (int32_t k = t->child_offsets[c]; k < t->child_offsets[c + 1]; k++) {
            sum.paths = add_saturated(sum.paths, below[t->children[k]].paths);
            sum.classes = add_saturated(sum.classes, below[t->children[k]].classes);
        }
        if (!sum.paths) sum.paths = 1;
        sum.classes = add_saturated(sum.classes, sum.paths);
        below[c] = sum;
    }
    *totals = (tc_path_totals){0, 0};
    for (int r = 0; r < t->n_roots && rc == 0; r++) {
        totals->paths = add_saturated(totals->paths, below[t->roots[r]].paths);
        totals->classes = add_saturated(totals->classes, below[t->roots[r]].classes);
    }
    free(order);
    free(below);
    return rc;
}

int64_t tc_taxonomy_path_count(const tc_taxonomy *t) {
    tc_path_totals totals;
    return tc_taxonomy_path_totals(t, &totals) ? -1 : totals.paths;
}

const char *tc_path_count_text(int64_t count, char *text) {
    snprintf(text, 32, "%s%" PRId64, count >= TC_PATHS_SATURATED ? ">= " : "", count);
    return text;
}

int tc_taxonomy_check_paths(const tc_taxonomy *t, const char *who, int64_t max_paths, int64_t max_classes) {
    tc_path_totals totals;
    if (tc_taxonomy_path_totals(t, &totals)) return -1;
    if (totals.paths <= max_paths && totals.classes <= max_classes) return 0;
    char paths[32], classes[32];
    return tc_fail("the taxonomy has %s root-to-leaf paths (%s classes along them); %s takes at most %" PRId64
                   " paths and %" PRId64 " classes along them",
                   tc_path_count_text(totals.paths, paths), tc_path_count_text(totals.classes, classes), who, max_paths,
                   max_classes);
}
