/* exec_cmd: the command line of an exec runtime (collect --exec NAME=COMMAND,
 * a plan's "runtimes": {"NAME": {"exec": [argv...]}}): splitting a COMMAND
 * as a shell would, without running one; finding the program before any
 * run; filling the argument templates of a phase.
 *
 * Ownership: argument vectors are NULL-terminated arrays of malloc'ed
 * strings, freed with pb_exec_argv_free. */
#ifndef PB_EXEC_CMD_H
#define PB_EXEC_CMD_H

#include <stddef.h>

/* Splits COMMAND into words as sh does its quoting, with no shell run and
 * nothing expanded: words are separated by blanks; '...' keeps everything
 * literally; "..." keeps everything but \" \\ \$ \` (backslash escapes
 * them); a backslash outside quotes keeps the next character. $VAR, ~,
 * globs and | ; & are plain characters (templates such as {model} need no
 * quoting). Returns the argument vector, or NULL with err set (an unclosed
 * quote, an empty command). */
char **pb_exec_split(const char *command, char *err, size_t errlen);
char **pb_exec_argv_dup(char *const *argv);
void pb_exec_argv_free(char **argv);
int pb_exec_argc(char *const *argv);

/* The program argv0 names, as execvp would find it: a name with a '/' as
 * is, else the first executable match on PATH. 0 with path set, or -1 with
 * err saying what is missing and what to do. */
int pb_exec_resolve(const char *argv0, char *path, size_t pathlen, char *err, size_t errlen);

/* One argument with its templates filled: {model}, {agents}, and
 * {endpoint:ID} from the lookup (NULL: unknown agent id). A brace that
 * opens no known template is kept as written. Returns a malloc'ed string,
 * or NULL with err set for an unknown {endpoint:ID}. */
typedef const char *(*pb_exec_endpoint_fn)(void *ud, const char *agent_id);
char *pb_exec_fill(const char *arg, const char *model, int agents, pb_exec_endpoint_fn endpoint,
                   void *ud, char *err, size_t errlen);

/* parbench's source tree, where agents/ is: the one collect was built from
 * (PARBENCH_SOURCE_DIR), else two levels above the collect binary (a build
 * tree inside it). 0 with root set, -1 when neither holds agents/. */
int pb_exec_root(char *root, size_t len);

/* A word of an exec command with "{parbench}" replaced by that tree (so a
 * plan names the reference agents from any working directory); the word
 * as it is when it has none. Malloc'ed, or NULL with err set when the
 * tree cannot be found. */
char *pb_exec_expand_root(const char *word, char *err, size_t errlen);

#endif
