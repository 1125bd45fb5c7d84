#include "manifest.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "pb_fs.h"
#include "pb_time.h"

int pb_manifest_write(const pb_plan *p, const char *plan_hash, const char *host,
                      const cJSON *endpoints, const cJSON *emulator,
                      int argc, char **argv, char *path, size_t pathlen,
                      char *err, size_t errlen)
{
    cJSON *m = cJSON_CreateObject();
    char now[64];
    cJSON_AddStringToObject(m, "format", "parbench-manifest");
    cJSON_AddNumberToObject(m, "format_version", 1);
    cJSON_AddStringToObject(m, "created", pb_time_rfc3339_now(now, sizeof now));
    cJSON_AddStringToObject(m, "parbench_version", PARBENCH_VERSION);
    cJSON_AddStringToObject(m, "plan_hash", plan_hash);
    cJSON *cmd = cJSON_AddArrayToObject(m, "argv");
    for (int i = 0; i < argc; i++)
        cJSON_AddItemToArray(cmd, cJSON_CreateString(argv[i]));
    cJSON *tool = cJSON_AddObjectToObject(m, "tool");
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    cJSON_AddStringToObject(tool, "libcurl", cv->version);
    cJSON_AddStringToObject(tool, "libcurl_ssl", cv->ssl_version ? cv->ssl_version : "");
    cJSON_AddStringToObject(tool, "libuv", uv_version_string());
    cJSON *h = cJSON_AddObjectToObject(m, "host");
    struct utsname u;
    cJSON_AddStringToObject(h, "name", host);
    if (uname(&u) == 0) {
        cJSON_AddStringToObject(h, "sysname", u.sysname);
        cJSON_AddStringToObject(h, "release", u.release);
        cJSON_AddStringToObject(h, "machine", u.machine);
    }
    cJSON_AddNumberToObject(h, "cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
    cJSON_AddItemToObject(m, "emulator", emulator ? cJSON_Duplicate(emulator, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(m, "endpoints", endpoints ? cJSON_Duplicate(endpoints, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(m, "plan", pb_plan_to_json(p));

    size_t ol = strlen(p->out);
    while (ol > 1 && p->out[ol - 1] == '/')
        ol--;
    snprintf(path, pathlen, "%.*s/manifest.json", (int)ol, p->out);
    if (access(path, F_OK) == 0) {
        char stamp[32];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        snprintf(path, pathlen, "%.*s/manifest-%s.json", (int)ol, p->out, stamp);
        for (int i = 2; access(path, F_OK) == 0 && i < 1000; i++)
            snprintf(path, pathlen, "%.*s/manifest-%s-%d.json", (int)ol, p->out, stamp, i);
    }
    char *s = cJSON_Print(m);
    cJSON_Delete(m);
    int rc = pb_fs_write_atomic(path, s, strlen(s), err, errlen);
    cJSON_free(s);
    return rc;
}
