// Loading the YAML files people write (--config files, taxonomies) with a
// bound on the work their aliases can make. libyaml keeps an alias as a
// second reference to the anchored node, so a reader that walks the tree
// walks each alias's target again: nine lines of nested aliases ("billion
// laughs") make 10^9 nodes from 451 bytes, and an anchor whose node holds
// its own alias makes an endless tree. Every YAML reader loads through
// here, so none of them meets such a tree.
#ifndef TC_YAML_LOAD_H
#define TC_YAML_LOAD_H

#include <stddef.h>
#include <stdio.h>
#include <yaml.h>

typedef struct {
    int max_depth;         // nesting below the top level, aliases followed
    size_t max_expansion;  // bytes the aliases may add to the tree (each node counts 8 plus its text)
    size_t max_bytes;      // the file's size; 0: any
} tc_yaml_limits;

// Loads the one document of `f` (named `path` in messages) into *doc. A
// syntax error, a second document, a tree nested deeper than
// limits->max_depth, an alias inside the node it names, or aliases that grow
// the tree by more than limits->max_expansion is an error naming the file and
// the line: "PATH: line N: nested more than 16 levels deep"; so is a file
// longer than limits->max_bytes. Returns 0 (an
// empty file gives a document without a root node: yaml_document_get_root_node
// is NULL) with *doc to free with yaml_document_delete, or -1 with nothing to
// free.
int tc_yaml_load(FILE *f, const char *path, const tc_yaml_limits *limits, yaml_document_t *doc);

#endif
