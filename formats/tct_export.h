// Text and .npy renderings of tensor elements, shared by tc-dump and any
// program that prints tensors for people.
#ifndef TC_TCT_EXPORT_H
#define TC_TCT_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "formats/tct.h"

// Element i of numeric data as a double (f16/bf16 widened).
double tct_element_double(tct_dtype dtype, const void *data, uint64_t i);

// Writes element i as text: integers exactly, floats with enough digits to
// round-trip (%.9g), NaN/inf as nan/inf (or null in JSON mode).
int tct_format_element(char *buf, size_t size, tct_dtype dtype, const void *data, uint64_t i, int json);

// Writes a string escaped for TSV (\t \n \r \\) or for JSON ("..." with escapes).
int tct_write_escaped(FILE *f, const char *s, size_t n, int json);

// The .npy dtype descriptor for a tensor dtype (bf16 and str are exported as
// f32 and fixed-width unicode); NULL if none.
const char *tct_npy_descr(tct_dtype dtype);

// A version-1.0 .npy header padded to exactly `size` bytes (a multiple of
// 64), so it can be rewritten in place once the shape is known. Returns
// -1 if it does not fit.
int tct_npy_header(char *out, size_t size, const char *descr, int rank, const uint64_t *dims);


// Exports tensor `name` of the stream as .npy to out. When the row count is
// not known up front, out must be seekable or the data is spooled to a
// temporary file. Reads the stream to its end (so corruption is reported).
// `where` names the stream in messages, `out_name` the output.
int tct_export_npy(tct_reader *reader, const char *name, FILE *out, const char *where, const char *out_name);

// Exports the rows of the comma-separated tensors `names` (same first
// dimension) as tab-separated text, one row a line, no header.
int tct_export_tsv(tct_reader *reader, const char *names, FILE *out, const char *where, const char *out_name);

#endif
