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

// The longest line a program holds: memory is bounded by the batch, not by
// a line that never ends. A document (a corpus line) longer than this is
// cut to its first TC_LINE_MAX bytes, far more text than tokenization keeps;
// any other line (labels, ids, taxonomy text, key terms) is refused.
enum { TC_LINE_MAX = 1 << 20 };

// Reads one line of at most TC_LINE_MAX bytes into *line (NUL-terminated,
// newline and a trailing CR removed; NUL bytes inside are kept and counted).
// Returns its length, -1 at end of input, -2 on error: a read error or a
// longer line ("a line longer than 1024 KiB"), to which the caller adds the
// file and line number.
long tc_read_line(FILE *f, char **line, size_t *cap);
// tc_read_line for the text files people write (labels, doc2labels, key
// terms, taxonomies): counts the line in *line_no and refuses a NUL byte,
// which would silently cut the line's C string short: -2, *line_no not
// counting the bad line (the caller names the file and line *line_no + 1,
// as for read errors).
long tc_read_text_line(FILE *f, char **line, size_t *cap, long *line_no);

// The same for a document: a longer line is cut to TC_LINE_MAX bytes (less
// the bytes of a character the cut would split) and the rest of it is read
// past without being stored; *cut is 1 for such a line, else 0. A NUL byte
// is refused as by tc_read_text_line (-2; the caller adds file and line).
long tc_read_document_line(FILE *f, char **line, size_t *cap, int *cut);

// The length of a cut of `text` to at most `max` bytes that splits no UTF-8
// character (a valid one: invalid bytes are cut anywhere).
size_t tc_utf8_cut(const char *text, size_t len, size_t max);

#endif
