// Reading a taxonomy from the files people write: TELEClass's layout
// (labels.txt + label_hierarchy.txt) or a YAML tree of names. Messages name
// the file and line of the problem.
#ifndef TC_TAXONOMY_READ_H
#define TC_TAXONOMY_READ_H

#include "common/taxonomy/taxonomy.h"

// labels.txt: `id<TAB>name` lines, ids 0..C-1 each once (any order);
// label_hierarchy.txt: `parent<TAB>child` lines of ids. Blank lines are
// skipped. A class in no edge while the hierarchy has edges is an error
// (no root reaches it through the hierarchy) unless allow_isolated, which
// makes it a top-level class. hierarchy_path may be NULL (a flat taxonomy).
int tc_taxonomy_read_teleclass(tc_taxonomy *taxonomy, const char *labels_path, const char *hierarchy_path,
                               int allow_isolated);

// YAML: the top level is a mapping (or a sequence) of top-level classes;
// a class's value is its children: nothing (a leaf), a mapping of children,
// a sequence whose items are names or one-key mappings, or a single name.
// Ids are given in order of first appearance. A name that appears again is
// the same class with one more parent (a DAG); children given in several
// places are joined.
int tc_taxonomy_read_yaml(tc_taxonomy *taxonomy, const char *path);

#endif
