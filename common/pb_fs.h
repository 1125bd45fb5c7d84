/* pb_fs: file helpers shared by every parbench binary.
 *
 * Why a module of its own: "a run that was written is never corrupted by a
 * later crash" is a project-wide promise, so there is exactly one way to
 * write a file (pb_fs_write_atomic) and one way to read one with a size cap
 * (pb_fs_read_all). */
#ifndef PB_FS_H
#define PB_FS_H

#include <stddef.h>

/* Writes len bytes to path atomically: a temp file in the same directory
 * (".NAME.tmp.PID.XXXXXX", created exclusively, never through a symlink),
 * fsync, rename over path, fsync of the directory. A symlink at path itself
 * is replaced, never followed. Creates missing parent
 * directories (mode 0755). On failure returns -1, removes the temp file and
 * puts a human-readable reason ("<what> <path>: <strerror>") in err. */
int pb_fs_write_atomic(const char *path, const void *data, size_t len,
                       char *err, size_t errlen);

/* pb_fs_write_atomic without the two fsyncs, for files made from other
 * files (analyze's reports, CSV, JSON and charts): readers still never see
 * a partial file, but a power cut right after may leave the old file or
 * an empty one, which running the command again repairs. A run is never
 * written this way. The fsyncs were a tenth of analyze's time on TR115. */
int pb_fs_write_derived(const char *path, const void *data, size_t len,
                        char *err, size_t errlen);

/* The same, for content produced piece by piece (a large trace need not
 * exist as one string in memory): emit() writes it through
 * pb_fs_out_write() (buffered) and returns 0, or nonzero to abandon the
 * file (with its reason in err, or a generic one is put there). */
typedef struct pb_fs_out pb_fs_out;
typedef int (*pb_fs_emit_fn)(pb_fs_out *o, void *ud);
int pb_fs_write_atomic_with(const char *path, pb_fs_emit_fn emit, void *ud,
                            char *err, size_t errlen);
/* Returns 0, or -1 once a write failed (err of the call above is set). */
int pb_fs_out_write(pb_fs_out *o, const void *data, size_t len);

/* The writer's pid if name is one of pb_fs_write_atomic's temp file names
 * (".NAME.tmp.PID.XXXXXX", or ".NAME.tmp.PID" of older versions), else -1.
 * Lets a sweep remove the leftovers of a writer that was killed. */
long pb_fs_tmp_pid(const char *name);

/* Whether files can be written in dir, before anything is measured: the
 * deepest existing part of dir must be a folder in which a file can be
 * created (tried: a temp file made and removed, since permission bits do
 * not stop root and a read-only mount refuses only then). Creates nothing
 * that stays. Returns 0, or -1 with err saying which part fails and why. */
int pb_fs_check_dir(const char *dir, char *err, size_t errlen);

/* mkdir -p. Returns 0 on success (also if it exists), -1 with err set. */
int pb_fs_mkdirs(const char *dir, char *err, size_t errlen);

/* Reads a whole regular file into a NUL-terminated malloc'd buffer.
 * Refuses files larger than max_bytes (returns -2, err says the size) so a
 * stray 10 GB file cannot exhaust memory. Returns 0 and sets *out and *outlen on
 * success, -1 on I/O error, -2 when too large. */
int pb_fs_read_all(const char *path, size_t max_bytes, char **out,
                   size_t *outlen, char *err, size_t errlen);

/* The same for a file the caller has open, with st its fstat: a directory
 * walk that opens files relative to their folder (openat) and needs their
 * identity before reading. Does not close fd. */
struct stat;
int pb_fs_read_fd(int fd, const struct stat *st, size_t max_bytes, char **out,
                  size_t *outlen, char *err, size_t errlen);

/* The file execvp would run for `name`: name itself when it holds a '/',
 * else the first executable regular file of that name in PATH's folders
 * (/usr/local/bin:/usr/bin:/bin when PATH is unset or empty). Returns 0
 * with out set, -1 when there is none. */
int pb_fs_find_program(const char *name, char *out, size_t len);

/* pipe(2) with both ends close-on-exec. pipe2(O_CLOEXEC) is a GNU
 * extension; this is the POSIX way, safe where no other thread forks
 * between the two calls (collect's threads do not). Returns 0 or -1. */
int pb_fs_pipe_cloexec(int fds[2]);

#endif
