/* pb_json: small typed getters over cJSON for the loaders.
 *
 * Why: every loader must say exactly which field was missing or had the
 * wrong type, and must read numbers through valuedouble (valueint saturates
 * at INT_MAX, and Ollama durations are int64 nanoseconds). */
#ifndef PB_JSON_H
#define PB_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Required finite number obj[key]. 0 on success; -1 with err naming
 * "<where>.<key>" and what was wrong (missing, type, not finite). */
int pb_json_num(const cJSON *obj, const char *key, const char *where,
                double *out, char *err, size_t errlen);

/* Optional number: NAN when absent, null, of another type or not finite. */
double pb_json_opt_num(const cJSON *obj, const char *key);

/* String value or NULL. */
const char *pb_json_str(const cJSON *obj, const char *key);

/* Object / array member or NULL when absent or of another type. */
const cJSON *pb_json_obj(const cJSON *obj, const char *key);
const cJSON *pb_json_arr(const cJSON *obj, const char *key);

/* Replaces, in every string value and key of the tree, each invalid UTF-8
 * sequence by U+FFFD (pb_text_utf8_repair): names come from untrusted files and
 * directory names, and a JSON document must be valid UTF-8 (RFC 8259).
 * Returns the number of strings repaired; a string that cannot be repaired
 * (out of memory) is emptied rather than left invalid. */
size_t pb_json_utf8_repair(cJSON *node);

/* Name of a cJSON node's type, for error messages. */
const char *pb_json_type(const cJSON *v);

#endif
