#include "pb_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pb_text.h"

const char *pb_json_type(const cJSON *v)
{
    if (!v)
        return "missing";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsObject(v))
        return "an object";
    return "invalid";
}

int pb_json_num(const cJSON *obj, const char *key, const char *where,
                double *out, char *err, size_t errlen)
{
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    if (!v) {
        snprintf(err, errlen, "missing field %s.%s", where, key);
        return -1;
    }
    if (!cJSON_IsNumber(v)) {
        snprintf(err, errlen, "field %s.%s is %s, expected a number", where,
                 key, pb_json_type(v));
        return -1;
    }
    /* cJSON turns 1e999 into inf via strtod; never let it into a mean. */
    if (!isfinite(v->valuedouble)) {
        snprintf(err, errlen, "field %s.%s is not a finite number", where, key);
        return -1;
    }
    *out = v->valuedouble;
    return 0;
}

double pb_json_opt_num(const cJSON *obj, const char *key)
{
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    if (!v || !cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return NAN;
    return v->valuedouble;
}

const char *pb_json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *pb_json_obj(const cJSON *obj, const char *key)
{
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return cJSON_IsObject(v) ? v : NULL;
}

const cJSON *pb_json_arr(const cJSON *obj, const char *key)
{
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return cJSON_IsArray(v) ? v : NULL;
}

/* A repaired copy of s, or NULL when s is valid (nothing to do). */
static char *repaired(const char *s, int *oom)
{
    size_t n = strlen(s);
    if (pb_text_utf8_valid(s, n))
        return NULL;
    char *r = pb_text_utf8_repair(s, n, NULL);
    *oom = r == NULL;
    return r;
}

size_t pb_json_utf8_repair(cJSON *node)
{
    size_t k = 0;
    for (; node; node = node->next) {
        int oom = 0;
        char *r;
        if (node->string && !(node->type & cJSON_StringIsConst) &&
            ((r = repaired(node->string, &oom)) || oom)) {
            if (oom)
                node->string[0] = '\0';
            else {
                cJSON_free(node->string);
                node->string = r;
            }
            k++;
        }
        oom = 0;
        if (cJSON_IsString(node) && node->valuestring &&
            ((r = repaired(node->valuestring, &oom)) || oom)) {
            if (oom)
                node->valuestring[0] = '\0';
            else {
                cJSON_free(node->valuestring);
                node->valuestring = r;
            }
            k++;
        }
        if (node->child)
            k += pb_json_utf8_repair(node->child);
    }
    return k;
}
