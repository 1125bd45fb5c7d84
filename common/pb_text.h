/* pb_text: small validators and text repairs shared by collect, analyze and
 * the emulator.
 *
 * Why a module of its own: a label that becomes a directory name, a header
 * name that becomes a request line, a server's error text that becomes a
 * JSON string or a Markdown cell must be checked the same way everywhere;
 * one definition keeps the rules from drifting apart. */
#ifndef PB_TEXT_H
#define PB_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Longest label that becomes a path component (runtime, config). */
#define PB_LABEL_MAX 128

/* Checks a label that becomes one path component. Returns 0 when it is
 * usable, else -1 with `why` saying what is wrong ("is empty", "starts with
 * a dot", ...), phrased to follow the label's name in a message. */
int pb_text_label_check(const char *s, char *why, size_t whylen);

/* 1 when s is a non-empty RFC 9110 token (the characters a header name may
 * have), else 0. */
int pb_text_http_token_ok(const char *s);

/* Length of the longest prefix of s[0..n) that does not end inside a UTF-8
 * sequence: cutting there never splits a character. */
size_t pb_text_utf8_cut(const char *s, size_t n);

/* Length of s[0..n) cut to at most cap bytes without splitting a UTF-8
 * sequence (n itself when n <= cap). */
size_t pb_text_utf8_cap(const char *s, size_t n, size_t cap);

/* 1 when s[0..n) is valid UTF-8 without NUL bytes, else 0. */
int pb_text_utf8_valid(const char *s, size_t n);

/* A malloc'd NUL-terminated copy of s[0..n) in which every invalid UTF-8
 * sequence (and every NUL byte) is replaced by U+FFFD. *repaired (if not
 * NULL) is set to the number of replacements. NULL only when out of memory. */
char *pb_text_utf8_repair(const char *s, size_t n, size_t *repaired);

/* Copies s into out for an error message: control bytes as \xNN (so CR,
 * LF or ESC from an input never reach the terminal raw), cut to about 60
 * characters with "...". Returns out. */
const char *pb_text_quote(const char *s, char *out, size_t outlen);

/* 1 when the JSON text s[0..n) has a \u0000 escape inside a string (a
 * backslash that is itself escaped does not start one), else 0. cJSON
 * decodes it to a NUL byte and the C string ends there: "ab\u0000cd"
 * would silently become "ab", so readers refuse such a document. */
int pb_text_json_has_nul_escape(const char *s, size_t n);

/* Writes s to f for a CSV cell or a terminal: control bytes (C0, DEL, and
 * the C1 range U+0080..U+009F) as \xNN / \u00NN, invalid UTF-8 bytes as
 * \xNN, so an ESC from an untrusted name never reaches a terminal or a
 * spreadsheet raw. A backslash is written as is. */
void pb_text_put_escaped(FILE *f, const char *s);

/* Levenshtein distance of two strings (bytes), capped at 255. */
int pb_text_edit_distance(const char *a, const char *b);

/* The candidate closest to `word` when it is close enough to be the likely
 * intent (distance <= 2, or <= a third of the word's length for longer
 * words), else NULL. */
const char *pb_text_nearest(const char *word, const char *const *cands, size_t n);

#endif
