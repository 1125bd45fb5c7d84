/* pb_load: turns files and directory trees into a pb_dataset.
 *
 * Formats are detected per file from content, at any depth (see
 * data/FORMAT.md and analyze/README.md): parbench traces, the original
 * TR115 Rust harness's metrics.json, the original Python harness's
 * metrics.json. summary.json files repeat a run (Rust) or a whole config
 * (Python): they are never loaded, only counted. Parbench manifests are
 * skipped silently. Anything else is recorded as a skip with a reason and
 * reported on stderr; loading never stops at a bad file. */
#ifndef PB_LOAD_H
#define PB_LOAD_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "pb_model.h"

typedef struct pb_load_opts {
    /* Directory levels above the file (1 = the directory holding it) that
     * name the runtime / config; 0 = automatic (file metadata, else the
     * run_N rule). Set by analyze --group. */
    int runtime_level, config_level;
    size_t max_file_bytes;  /* files larger than this are refused */
    int quiet;              /* 1: no per-file warnings on stderr */
    /* Threads that parse files, the caller's included (0: one per CPU
     * this process may use, at most PB_LOAD_MAX_JOBS). The result does not
     * depend on it: files are applied in walk order. */
    int jobs;
} pb_load_opts;

#define PB_LOAD_DEFAULT_MAX_BYTES (32u * 1024u * 1024u)
#define PB_LOAD_MAX_DEPTH 64
#define PB_LOAD_MAX_JOBS 8

void pb_load_opts_init(pb_load_opts *o);

/* The threads o makes a load use, the caller's included: o->jobs, or
 * (0) one per CPU this process may use, at most PB_LOAD_MAX_JOBS. */
int pb_load_threads(const pb_load_opts *o);

/* Loads every path (file or directory, recursively) into ds. A file or
 * directory reached twice (overlapping arguments, symlinks) counts once.
 * Returns the number of runs added. */
size_t pb_load_paths(pb_dataset *ds, char *const *paths, int n,
                     const pb_load_opts *o);

/* One command-line input: `analyze old=DIR new=DIR` (label may be NULL).
 * first_run / n_runs are filled by pb_load_inputs: the runs it added. */
typedef struct pb_load_input {
    const char *label, *path;
    size_t first_run, n_runs;
} pb_load_input;

/* pb_load_paths over labelled inputs, recording each input's runs. */
size_t pb_load_inputs(pb_dataset *ds, pb_load_input *in, int n,
                      const pb_load_opts *o);

/* Sets every run's `input` (label, else path) and, unless merge, keeps
 * the inputs' runtimes apart: a labelled input's runtimes become
 * "LABEL/runtime"; an unlabelled input's become "PATH/runtime" when one of
 * its runtime names also appears in another input. -1 when out of memory. */
int pb_load_label_inputs(pb_dataset *ds, const pb_load_input *in, int n, int merge);

/* Per-format parsers of an already parsed document into a run the caller
 * appended (pb_dataset_add_run). 0 on success; -1 with err saying what is
 * wrong (the caller drops the run and records a skip). They set everything
 * except path / runtime / config when the format lacks them. */
int pb_load_parbench(const cJSON *root, pb_run *run, char *err, size_t errlen);
int pb_load_tr115_rust(const cJSON *root, pb_run *run, char *err, size_t errlen);
int pb_load_tr115_python(const cJSON *root, pb_run *run, char *err, size_t errlen);

#endif
