// Files in and out, the way every program treats them: "-" or no name is
// stdin/stdout; output to a named file is atomic (a temporary file beside it,
// renamed into place only when everything was written); binary output is
// refused on a terminal unless forced.
#ifndef TC_IO_H
#define TC_IO_H

#include <stdio.h>

#include "common/cli/cli.h"
#include "formats/tct.h"

typedef struct {
    FILE *f;
    const char *path;     // as named ("-" for stdout)
    char *temp_path;      // NULL for stdout
} tc_output;

// Opens `path` (NULL or "-" for stdout). binary: refuse a terminal unless force.
// A device or a FIFO that exists (/dev/null) is written in place.
int tc_output_open(tc_output *out, const char *path, int binary, int force);
// Flushes, syncs and renames into place; on failure removes the temporary file.
int tc_output_commit(tc_output *out);
// Removes the temporary file (after an error).
void tc_output_abort(tc_output *out);
// The output's name for messages: its path, or "(stdout)".
const char *tc_output_name(const tc_output *out);

// Opens an input ("-" or NULL: stdin); the error names the path.
FILE *tc_input_open(const char *path);
void tc_input_close(FILE *f);

// Output side of a program writing one tensor stream: opens cli->output
// atomically, starts a writer with the program's provenance and --level.
typedef struct {
    tc_output out;
    tct_writer *writer;
} tc_tensor_output;

int tc_tensor_output_open(tc_tensor_output *o, const tc_cli *cli);
int tc_tensor_output_commit(tc_tensor_output *o);  // closes the stream and commits the file
void tc_tensor_output_abort(tc_tensor_output *o);

// Reads one line of any length into *line (NUL-terminated, newline and a
// trailing CR removed). Returns its length, -1 at end of input, -2 on error.
long tc_read_line(FILE *f, char **line, size_t *cap);
// tc_read_line for the text files people write (labels, doc2labels, key
// terms, taxonomies, corpora): counts the line in *line_no and refuses a
// NUL byte, which would silently cut the line's C string short: -2 with
// "line N: a NUL byte ..." (the caller names the file, as for read errors).
long tc_read_text_line(FILE *f, char **line, size_t *cap, long *line_no);

#endif
