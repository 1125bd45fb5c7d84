/* pb_cli: how collect, analyze and ollama-emu report errors and command-line
 * mistakes. One policy for the three programs:
 *
 * - Every message is one line on stderr that starts with the program's name
 *   ("collect: ...") and says what failed, where (the flag, file or
 *   endpoint) and what to do; stdout carries only the product.
 * - A command-line mistake adds "Try 'PROG --help'." and exits with
 *   PB_CLI_EXIT_USAGE (2 in all three programs, as documented in their
 *   --help); an unknown option names the nearest known one.
 * - Numbers in flags are read one way (pb_cli_number, pb_cli_integer): the
 *   whole argument, finite, in the flag's range.
 * - Running out of memory is pb_mem.h's business (it names the program
 *   through pb_cli_prog()).
 *
 * Why a module of its own: the three programs had a copy each, and the
 * copies had drifted ("(see collect --help)", "Try 'analyze --help'.",
 * "(see --help)"). */
#ifndef PB_CLI_H
#define PB_CLI_H

#include <stddef.h>

/* The exit status of a command-line mistake, in every program. */
#define PB_CLI_EXIT_USAGE 2

/* Sets the program name that starts every message (call first in main;
 * "parbench" until then, e.g. in tests of the libraries). */
void pb_cli_init(const char *prog);

/* The name set by pb_cli_init. */
const char *pb_cli_prog(void);

/* Prints "PROG: <message>\n" on stderr. */
void pb_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "PROG: <message>\nTry 'PROG --help'.\n" on stderr and returns
 * PB_CLI_EXIT_USAGE, so that main can `return pb_cli_usage_error(...)`. */
int pb_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes "unknown option 'ARG'" into out, followed by "; did you mean
 * --NAME?" when one of names[0..n) (without the leading dashes) is close
 * to it (pb_text_nearest). ARG's own dashes and any "=VALUE" are ignored for
 * the comparison. Returns out. */
const char *pb_cli_unknown_option(const char *arg, const char *const *names, size_t n,
                                  char *out, size_t outlen);

/* A command-line number: the whole of s is one finite number in [lo, hi]
 * (strtod's syntax; "nan", "inf", "1e999", "3x" and "" fail). Returns 0
 * and *out, or -1 (the caller says which flag and what range). */
int pb_cli_number(const char *s, double lo, double hi, double *out);

/* A command-line whole number: the whole of s is one decimal integer in
 * [lo, hi] (strtoll's syntax). Returns 0 and *out, or -1. */
int pb_cli_integer(const char *s, long long lo, long long hi, long long *out);

#endif
