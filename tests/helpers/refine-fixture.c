// Test helper: builds the inputs of tc-refine and tc-augment from text, and
// checks label files against expected text.
//   refine-fixture taxonomy LABELS HIERARCHY [KEYTERMS...]   taxonomy tensors
//       (labels.txt, label_hierarchy.txt, name:term,term files), written
//       directly with the tensor writer: class_names, edges, depth, roots, terms
//   refine-fixture embeddings TEXT [f16]   lines id<TAB>v1 v2 ... -> doc_ids + embeddings
//   refine-fixture terms TEXT              lines class<TAB>v1 v2 ... -> class_of_row + embeddings
//   refine-fixture random N D SEED         N random unit rows, ids d0, d1, ...
//   refine-fixture from-npy IDS NPY        ids (one a line) + an (N, D) <f4 .npy
//   refine-fixture labels TEXT             lines id<TAB>c1,c2,... -> label tensors
//   refine-fixture show-labels FILE        label tensors as id<TAB>classes<TAB>scores<TAB>core
//   refine-fixture check-labels FILE EXPECTED TOL   compares with lines
//                                          id<TAB>c1,c2<TAB>s1,s2 (scores optional)
#include "common/error.h"
#include "formats/tct.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// A short-lived helper that keeps what it read until it exits: no leak
// report for it (the programs under test are checked for leaks).
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void) { return 1; }

static int die(void) {
    fprintf(stderr, "refine-fixture: %s\n", tc_error());
    return 1;
}

typedef struct {
    char **items;
    size_t n, cap;
} list;

static int push(list *l, char *s) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->items = realloc(l->items, l->cap * sizeof *l->items);
        if (!l->items) return tc_fail("out of memory");
    }
    l->items[l->n++] = s;
    return 0;
}

static int read_lines(const char *path, list *out) {
    FILE *f = fopen(path, "r");
    if (!f) return tc_fail("%s: cannot open", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n == 0) continue;
        if (push(out, strdup(line))) return -1;
    }
    free(line);
    fclose(f);
    return 0;
}

static tct_writer *open_writer(void) {
    tct_attr prov[1] = {{"program", "refine-fixture"}};
    tct_writer *w;
    return tct_writer_open(&w, stdout, "(stdout)", prov, 1, NULL) ? NULL : w;
}

static int find_name(list *names, const char *name) {
    for (size_t i = 0; i < names->n; i++)
        if (!strcmp(names->items[i], name)) return (int)i;
    return -1;
}

static int write_taxonomy(int argc, char **argv) {
    list labels = {0}, edges_text = {0}, names = {0};
    if (read_lines(argv[2], &labels) || read_lines(argv[3], &edges_text)) return -1;
    for (size_t i = 0; i < labels.n; i++) {
        char *tab = strchr(labels.items[i], '\t');
        if (!tab || atoi(labels.items[i]) != (int)i) return tc_fail("%s: line %zu: expected %zu<TAB>name", argv[2], i + 1, i);
        push(&names, tab + 1);
    }
    int C = (int)names.n, E = (int)edges_text.n;
    int32_t *edges = calloc((size_t)E * 2 + 2, sizeof *edges), *depth = calloc((size_t)C, sizeof *depth);
    int32_t *roots = calloc((size_t)C, sizeof *roots);
    int n_roots = 0;
    for (int e = 0; e < E; e++)
        if (sscanf(edges_text.items[e], "%d\t%d", &edges[2 * e], &edges[2 * e + 1]) != 2) return tc_fail("bad edge line");
    uint8_t *has_parent = calloc((size_t)C, 1);
    for (int e = 0; e < E; e++) has_parent[edges[2 * e + 1]] = 1;
    for (int c = 0; c < C; c++)
        if (!has_parent[c]) roots[n_roots++] = c, depth[c] = 1;
    for (int changed = 1; changed;) {  // depth = 1 + the smallest parent depth
        changed = 0;
        for (int e = 0; e < E; e++) {
            int p = edges[2 * e], ch = edges[2 * e + 1];
            if (depth[p] && (!depth[ch] || depth[ch] > depth[p] + 1)) depth[ch] = depth[p] + 1, changed = 1;
        }
    }
    list terms = {0};
    int32_t *term_class = NULL;
    size_t n_terms = 0;
    for (int a = 4; a < argc; a++) {
        list lines = {0};
        if (read_lines(argv[a], &lines)) return -1;
        for (size_t i = 0; i < lines.n; i++) {
            char *colon = strchr(lines.items[i], ':');
            if (!colon) continue;
            *colon = 0;
            int c = find_name(&names, lines.items[i]);
            if (c < 0) continue;
            for (char *t = strtok(colon + 1, ","); t; t = strtok(NULL, ",")) {
                push(&terms, t);
                term_class = realloc(term_class, (n_terms + 1) * sizeof *term_class);
                term_class[n_terms++] = c;
            }
        }
    }
    tct_writer *w = open_writer();
    if (!w) return -1;
    uint64_t dc[1] = {(uint64_t)C}, de[2] = {(uint64_t)E, 2}, dr[1] = {(uint64_t)n_roots}, dt[1] = {n_terms};
    tct_attr virtual_root[1] = {{"virtual_root", n_roots > 1 ? "yes" : "no"}};
    if (tct_writer_string_tensor(w, "class_names", (const char *const *)names.items, (uint64_t)C, NULL, 0) ||
        tct_writer_tensor(w, "edges", TCT_I32, 2, de, edges, NULL, 0) ||
        tct_writer_tensor(w, "depth", TCT_I32, 1, dc, depth, NULL, 0) ||
        tct_writer_tensor(w, "roots", TCT_I32, 1, dr, roots, virtual_root, 1) ||
        (n_terms && (tct_writer_string_tensor(w, "terms", (const char *const *)terms.items, n_terms, NULL, 0) ||
                     tct_writer_tensor(w, "term_class", TCT_I32, 1, dt, term_class, NULL, 0))))
        return -1;
    return tct_writer_close(w);
}

// Lines KEY<TAB>v1 v2 ...: keys and an (N, D) matrix.
static int read_rows(const char *path, list *keys, float **rows, size_t *d) {
    list lines = {0};
    if (read_lines(path, &lines)) return -1;
    *d = 0;
    *rows = NULL;
    for (size_t i = 0; i < lines.n; i++) {
        char *tab = strchr(lines.items[i], '\t');
        if (!tab) return tc_fail("%s: line %zu: expected KEY<TAB>values", path, i + 1);
        *tab = 0;
        push(keys, lines.items[i]);
        size_t k = 0;
        float row[4096];
        for (char *p = tab + 1, *end; k < 4096; p = end) {
            row[k] = strtof(p, &end);
            if (end == p) break;
            k++;
        }
        if (i == 0) *d = k;
        if (k != *d || k == 0) return tc_fail("%s: line %zu: %zu values, expected %zu", path, i + 1, k, *d);
        *rows = realloc(*rows, (i + 1) * *d * sizeof **rows);
        memcpy(*rows + i * *d, row, *d * sizeof *row);
    }
    return 0;
}

static int write_embeddings(const char *path, int half) {
    list ids = {0};
    float *rows;
    size_t d;
    if (read_rows(path, &ids, &rows, &d)) return -1;
    tct_writer *w = open_writer();
    if (!w) return -1;
    uint64_t dn[1] = {ids.n}, dm[2] = {ids.n, d};
    int rc = tct_writer_string_tensor(w, "doc_ids", (const char *const *)ids.items, ids.n, NULL, 0);
    if (half) {
        uint16_t *h = malloc(ids.n * d * sizeof *h + 2);
        for (size_t i = 0; i < ids.n * d; i++) h[i] = tct_f32_to_f16(rows[i]);
        rc = rc || tct_writer_tensor(w, "embeddings", TCT_F16, 2, dm, h, NULL, 0);
    } else {
        rc = rc || tct_writer_tensor(w, "embeddings", TCT_F32, 2, dm, rows, NULL, 0);
    }
    (void)dn;
    return rc ? -1 : tct_writer_close(w);
}

static int write_terms(const char *path) {
    list keys = {0};
    float *rows;
    size_t d;
    if (read_rows(path, &keys, &rows, &d)) return -1;
    int32_t *cls = malloc(keys.n * sizeof *cls + 4);
    for (size_t i = 0; i < keys.n; i++) cls[i] = atoi(keys.items[i]);
    tct_writer *w = open_writer();
    if (!w) return -1;
    uint64_t dn[1] = {keys.n}, dm[2] = {keys.n, d};
    if (tct_writer_tensor(w, "class_of_row", TCT_I32, 1, dn, cls, NULL, 0) ||
        tct_writer_tensor(w, "embeddings", TCT_F32, 2, dm, rows, NULL, 0))
        return -1;
    return tct_writer_close(w);
}

static int write_random(uint64_t n, int d, uint64_t seed) {
    tct_writer *w = open_writer();
    if (!w) return -1;
    uint64_t d1[1] = {TCT_ROWS_UNKNOWN}, d2[2] = {TCT_ROWS_UNKNOWN, (uint64_t)d};
    int ids = tct_writer_begin(w, "doc_ids", TCT_STR, 1, d1, NULL, 0);
    int emb = tct_writer_begin(w, "embeddings", TCT_F32, 2, d2, NULL, 0);
    if (ids < 0 || emb < 0) return -1;
    float *row = malloc((size_t)d * sizeof *row);
    uint64_t st = seed * 2654435761u + 1;
    for (uint64_t r = 0; r < n; r++) {
        double norm = 0;
        for (int k = 0; k < d; k++) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            row[k] = (float)((double)(st >> 11) / 9007199254740992.0 - 0.5);
            norm += (double)row[k] * row[k];
        }
        for (int k = 0; k < d; k++) row[k] = (float)(row[k] / sqrt(norm));
        char name[32];
        snprintf(name, sizeof name, "d%llu", (unsigned long long)r);
        const char *s = name;
        if (tct_writer_append_strings(w, ids, &s, NULL, 1) || tct_writer_append(w, emb, row, 1)) return -1;
        if (r % 4096 == 4095 && tct_writer_flush(w)) return -1;
    }
    free(row);
    return tct_writer_end(w, ids) || tct_writer_end(w, emb) ? -1 : tct_writer_close(w);
}

static int write_from_npy(const char *ids_path, const char *npy_path) {
    list ids = {0};
    if (read_lines(ids_path, &ids)) return -1;
    FILE *f = fopen(npy_path, "rb");
    if (!f) return tc_fail("%s: cannot open", npy_path);
    unsigned char head[10];
    if (fread(head, 1, 10, f) != 10 || memcmp(head, "\x93NUMPY", 6)) return tc_fail("%s: not a .npy file", npy_path);
    size_t hlen = head[8] | (size_t)head[9] << 8;
    if (head[6] >= 2) {
        unsigned char more[2];
        if (fread(more, 1, 2, f) != 2) return tc_fail("%s: short header", npy_path);
        hlen = head[8] | (size_t)head[9] << 8 | (size_t)more[0] << 16 | (size_t)more[1] << 24;
    }
    char *header = calloc(hlen + 1, 1);
    if (fread(header, 1, hlen, f) != hlen) return tc_fail("%s: short header", npy_path);
    unsigned long long n, d;
    char *shape = strstr(header, "'shape': (");
    if (!strstr(header, "'<f4'") || strstr(header, "'fortran_order': True") || !shape ||
        sscanf(shape, "'shape': (%llu, %llu)", &n, &d) != 2)
        return tc_fail("%s: expected a C-ordered (N, D) float32 array: %s", npy_path, header);
    if (n != ids.n) return tc_fail("%s: %llu rows but %zu ids", npy_path, n, ids.n);
    float *x = malloc(n * d * sizeof *x + 4);
    if (fread(x, sizeof *x, n * d, f) != n * d) return tc_fail("%s: short data", npy_path);
    fclose(f);
    tct_writer *w = open_writer();
    if (!w) return -1;
    uint64_t dm[2] = {n, d};
    if (tct_writer_string_tensor(w, "doc_ids", (const char *const *)ids.items, n, NULL, 0) ||
        tct_writer_tensor(w, "embeddings", TCT_F32, 2, dm, x, NULL, 0))
        return -1;
    return tct_writer_close(w);
}

static int write_labels(const char *path) {
    list lines = {0};
    if (read_lines(path, &lines)) return -1;
    list ids = {0};
    int64_t *offsets = calloc(lines.n + 1, sizeof *offsets);
    int32_t *classes = NULL;
    size_t nnz = 0;
    for (size_t i = 0; i < lines.n; i++) {
        char *tab = strchr(lines.items[i], '\t');
        if (tab) *tab = 0;
        push(&ids, lines.items[i]);
        for (char *t = tab ? strtok(tab + 1, ",") : NULL; t; t = strtok(NULL, ",")) {
            classes = realloc(classes, (nnz + 1) * sizeof *classes);
            classes[nnz++] = atoi(t);
        }
        offsets[i + 1] = (int64_t)nnz;
    }
    tct_writer *w = open_writer();
    if (!w) return -1;
    uint64_t dn[1] = {lines.n + 1}, dz[1] = {nnz};
    if (tct_writer_string_tensor(w, "doc_ids", (const char *const *)ids.items, ids.n, NULL, 0) ||
        tct_writer_tensor(w, "label_offsets", TCT_I64, 1, dn, offsets, NULL, 0) ||
        tct_writer_tensor(w, "label_classes", TCT_I32, 1, dz, classes, NULL, 0))
        return -1;
    return tct_writer_close(w);
}

typedef struct {
    tct_bundle b;
    const tct_bundle_tensor *ids, *offsets, *classes, *scores, *core;
} label_file;

static int load_labels(label_file *l, const char *path) {
    if (tct_bundle_load(&l->b, path)) return -1;
    l->ids = tct_bundle_find(&l->b, "doc_ids");
    l->offsets = tct_bundle_find(&l->b, "label_offsets");
    l->classes = tct_bundle_find(&l->b, "label_classes");
    l->scores = tct_bundle_find(&l->b, "label_scores");
    l->core = tct_bundle_find(&l->b, "label_core");
    if (!l->ids || !l->offsets || !l->classes) return tc_fail("%s: not a label file", path);
    return 0;
}

static int show_labels(const char *path) {
    label_file l;
    if (load_labels(&l, path)) return -1;
    const int64_t *off = l.offsets->data;
    for (uint64_t i = 0; i < l.ids->count; i++) {
        printf("%s\t", ((char **)l.ids->data)[i]);
        for (int64_t k = off[i]; k < off[i + 1]; k++) printf("%s%d", k > off[i] ? "," : "", ((int32_t *)l.classes->data)[k]);
        printf("\t");
        for (int64_t k = off[i]; l.scores && k < off[i + 1]; k++) printf("%s%.7g", k > off[i] ? "," : "", ((float *)l.scores->data)[k]);
        printf("\t");
        for (int64_t k = off[i]; l.core && k < off[i + 1]; k++) printf("%s%d", k > off[i] ? "," : "", ((uint8_t *)l.core->data)[k]);
        printf("\n");
    }
    return 0;
}

static int check_labels(const char *path, const char *expected, double tol) {
    label_file l;
    list lines = {0};
    if (load_labels(&l, path) || read_lines(expected, &lines)) return -1;
    if (lines.n != l.ids->count) return tc_fail("%llu documents, expected %zu", (unsigned long long)l.ids->count, lines.n);
    const int64_t *off = l.offsets->data;
    int bad = 0;
    for (size_t i = 0; i < lines.n; i++) {
        char *fields[3] = {lines.items[i], NULL, NULL};
        for (int k = 1; k < 3; k++) {
            char *tab = fields[k - 1] ? strchr(fields[k - 1], '\t') : NULL;
            if (tab) *tab = 0, fields[k] = tab + 1;
        }
        const char *id = ((char **)l.ids->data)[i];
        int ok = !strcmp(id, fields[0]);
        int64_t k = off[i];
        for (char *t = fields[1] && *fields[1] ? strtok(fields[1], ",") : NULL; ok && t; t = strtok(NULL, ","), k++)
            ok = k < off[i + 1] && ((int32_t *)l.classes->data)[k] == atoi(t);
        ok = ok && k == off[i + 1];
        k = off[i];
        for (char *t = fields[2] && *fields[2] ? strtok(fields[2], ",") : NULL; ok && t; t = strtok(NULL, ","), k++)
            ok = l.scores && fabs(((float *)l.scores->data)[k] - strtod(t, NULL)) <= tol;
        if (!ok && bad++ < 5) fprintf(stderr, "row %zu (%s) differs from the expected line %zu\n", i, id, i + 1);
    }
    if (bad) return tc_fail("%d of %zu rows differ", bad, lines.n);
    printf("%zu rows match\n", lines.n);
    return 0;
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "";
    int rc;
    if (!strcmp(what, "taxonomy") && argc >= 4) rc = write_taxonomy(argc, argv);
    else if (!strcmp(what, "embeddings") && argc >= 3) rc = write_embeddings(argv[2], argc > 3 && !strcmp(argv[3], "f16"));
    else if (!strcmp(what, "terms") && argc == 3) rc = write_terms(argv[2]);
    else if (!strcmp(what, "random") && argc == 5) rc = write_random(strtoull(argv[2], NULL, 10), atoi(argv[3]), strtoull(argv[4], NULL, 10));
    else if (!strcmp(what, "from-npy") && argc == 4) rc = write_from_npy(argv[2], argv[3]);
    else if (!strcmp(what, "labels") && argc == 3) rc = write_labels(argv[2]);
    else if (!strcmp(what, "show-labels") && argc == 3) rc = show_labels(argv[2]);
    else if (!strcmp(what, "check-labels") && argc == 5) rc = check_labels(argv[2], argv[3], atof(argv[4]));
    else {
        fprintf(stderr, "usage: refine-fixture taxonomy|embeddings|terms|random|from-npy|labels|show-labels|check-labels ...\n");
        return 2;
    }
    return rc ? die() : 0;
}
