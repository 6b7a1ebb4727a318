// Test helper: packs arrays a golden script saved as .npy (little-endian
// i4/f4, C order) and string lists (.txt, one per line) into one tensor
// stream, so golden files are compact, zstd-compressed and readable with
// tc-dump.
//   golden-pack OUT.tct [--meta KEY=VALUE]... [--attr TENSOR:KEY=VALUE]... NAME=FILE...
#include "formats/tct.h"
#include "common/error.h"
#include "common/cli/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_ITEMS = 32 };

static int die(const char *what) {
    fprintf(stderr, "golden-pack: %s%s%s\n", what, tc_error()[0] ? ": " : "", tc_error());
    return 1;
}

// Reads a .npy file: dtype ('i' or 'f', 4 bytes), rank, dims, data.
static void *read_npy(const char *path, tct_dtype *dtype, int *rank, uint64_t *dims) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char magic[10];
    void *data = NULL;
    if (fread(magic, 1, 10, f) != 10 || memcmp(magic, "\x93NUMPY", 6)) goto done;
    size_t hlen = magic[8] | magic[9] << 8;
    if (magic[6] >= 2) {  // versions 2 and 3 have a 4-byte header length
        unsigned char more[2];
        if (fread(more, 1, 2, f) != 2) goto done;
        hlen |= (size_t)more[0] << 16 | (size_t)more[1] << 24;
    }
    char *h = calloc(hlen + 1, 1);
    if (!h || fread(h, 1, hlen, f) != hlen) {
        free(h);
        goto done;
    }
    const char *descr = strstr(h, "'descr': '"), *shape = strstr(h, "'shape': (");
    if (!descr || !shape || strstr(h, "'fortran_order': True")) {
        free(h);
        goto done;
    }
    descr += 10;
    if (!strncmp(descr, "<i4", 3)) *dtype = TCT_I32;
    else if (!strncmp(descr, "<f4", 3)) *dtype = TCT_F32;
    else {
        free(h);
        goto done;
    }
    *rank = 0;
    uint64_t count = 1;
    for (const char *p = shape + 10; *p && *p != ')';) {
        char *end;
        unsigned long long d = strtoull(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        dims[(*rank)++] = d;
        count *= d;
        p = end;
    }
    free(h);
    data = malloc(count * 4 + 1);
    if (data && fread(data, 4, count, f) != count) {
        free(data);
        data = NULL;
    }
done:
    fclose(f);
    return data;
}

static char **read_lines(const char *path, uint64_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char **lines = NULL, *line = NULL;
    size_t cap = 0, have = 0;
    long len;
    while ((len = tc_read_line(f, &line, &cap)) >= 0) {
        lines = realloc(lines, (have + 1) * sizeof *lines);
        lines[have++] = strdup(line);
    }
    free(line);
    fclose(f);
    *n = have;
    return lines ? lines : calloc(1, sizeof *lines);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: golden-pack OUT.tct [--meta K=V]... [--attr TENSOR:K=V]... NAME=FILE...\n");
        return 2;
    }
    tct_attr meta[MAX_ITEMS], attrs[MAX_ITEMS];
    const char *attr_tensor[MAX_ITEMS];
    size_t n_meta = 0, n_attrs = 0;
    meta[n_meta++] = (tct_attr){"program", "golden-pack"};
    int first_item = 2;
    for (; first_item + 1 < argc && argv[first_item][0] == '-'; first_item += 2) {
        char *kv = argv[first_item + 1], *eq = strchr(kv, '=');
        if (!eq || n_meta == MAX_ITEMS || n_attrs == MAX_ITEMS) return die("bad --meta/--attr");
        *eq = 0;
        if (!strcmp(argv[first_item], "--meta")) {
            meta[n_meta++] = (tct_attr){kv, eq + 1};
        } else {
            char *colon = strchr(kv, ':');
            if (!colon) return die("--attr needs TENSOR:KEY=VALUE");
            *colon = 0;
            attr_tensor[n_attrs] = kv;
            attrs[n_attrs++] = (tct_attr){colon + 1, eq + 1};
        }
    }
    FILE *out = fopen(argv[1], "wb");
    tct_writer *w;
    tct_writer_options opt = {.level = 19};
    if (!out || tct_writer_open(&w, out, argv[1], meta, n_meta, &opt)) return die(argv[1]);
    for (int i = first_item; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) return die("items are NAME=FILE");
        *eq = 0;
        const char *name = argv[i], *file = eq + 1;
        tct_attr own[MAX_ITEMS];
        size_t n_own = 0;
        for (size_t k = 0; k < n_attrs; k++)
            if (!strcmp(attr_tensor[k], name)) own[n_own++] = attrs[k];
        int rc;
        if (strstr(file, ".txt")) {
            uint64_t n;
            char **lines = read_lines(file, &n);
            if (!lines) return die(file);
            rc = tct_writer_string_tensor(w, name, (const char *const *)lines, n, own, n_own);
            for (uint64_t k = 0; k < n; k++) free(lines[k]);
            free(lines);
        } else {
            tct_dtype dtype;
            int rank;
            uint64_t dims[TCT_MAX_RANK];
            void *data = read_npy(file, &dtype, &rank, dims);
            if (!data) return die(file);
            rc = tct_writer_tensor(w, name, dtype, rank, dims, data, own, n_own);
            free(data);
        }
        if (rc) return die(name);
    }
    if (tct_writer_close(w) || fclose(out)) return die(argv[1]);
    return 0;
}
