/* servers: the trace's servers[] entries (see servers.h). */
#include "servers.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

cJSON *pb_servers_emulator_header(const char *value)
{
    if (!value)
        return NULL;
    double scale = NAN;
    char preset[64] = "";
    /* "key=value" parts separated by ';', in any order, spaces allowed;
     * unknown keys are skipped so the emulator can add some later. */
    for (const char *s = value; *s;) {
        while (*s == ' ' || *s == '\t' || *s == ';')
            s++;
        const char *end = strchr(s, ';');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        if (eq) {
            size_t kl = (size_t)(eq - s);
            while (kl && (s[kl - 1] == ' ' || s[kl - 1] == '\t'))
                kl--;
            const char *v = eq + 1, *ve = s + len;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            char vb[64];
            size_t vl = (size_t)(ve - v);
            if (vl < sizeof vb) {
                memcpy(vb, v, vl);
                vb[vl] = '\0';
                if (kl == 10 && strncmp(s, "time-scale", 10) == 0) {
                    char *x;
                    errno = 0;
                    double d = strtod(vb, &x);
                    if (!errno && x != vb && !*x && isfinite(d) && d > 0)
                        scale = d;
                } else if (kl == 6 && strncmp(s, "preset", 6) == 0 && vl > 0) {
                    int okname = 1;
                    for (size_t i = 0; i < vl; i++)
                        okname &= isalnum((unsigned char)vb[i]) || vb[i] == '-' || vb[i] == '_';
                    if (okname)
                        memcpy(preset, vb, vl + 1);
                }
            }
        }
        s += len;
    }
    cJSON *o = cJSON_CreateObject();
    if (isnan(scale))
        cJSON_AddNullToObject(o, "time_scale");
    else
        cJSON_AddNumberToObject(o, "time_scale", scale);
    if (preset[0])
        cJSON_AddStringToObject(o, "preset", preset);
    else
        cJSON_AddNullToObject(o, "preset");
    return o;
}

cJSON *pb_servers_entry(const char *endpoint, const char *dialect,
                        const char *server_header, const cJSON *version,
                        const char *emulator_header)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "endpoint", endpoint);
    cJSON_AddStringToObject(o, "dialect", dialect);
    cJSON_AddItemToObject(o, "server_header", server_header ? cJSON_CreateString(server_header)
                                                            : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "version", version ? cJSON_Duplicate(version, 1) : cJSON_CreateNull());
    cJSON *em = pb_servers_emulator_header(emulator_header);
    cJSON_AddItemToObject(o, "emulator", em ? em : cJSON_CreateNull());
    return o;
}
