/* emu_env: Ollama's environment variables (envconfig/config.go) and Go's
 * duration syntax (time.ParseDuration), which keep_alive and
 * OLLAMA_KEEP_ALIVE use. */
#include "emu.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_cli.h"

static void dur_error(const char *what, const char *s, const char *unit,
                      char *err, size_t errlen)
{
    if (unit)
        snprintf(err, errlen, "time: unknown unit \"%s\" in duration \"%s\"",
                 unit, s);
    else
        snprintf(err, errlen, "time: %s duration \"%s\"", what, s);
}

int emu_duration_parse(const char *s, double *out, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        double seconds;
    } units[] = {
        {"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6}, {"\xce\xbcs", 1e-6},
        {"ms", 1e-3}, {"s", 1},     {"m", 60},           {"h", 3600},
    };
    const char *p = s;
    int neg = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (!strcmp(p, "0")) {
        *out = 0;
        return 0;
    }
    if (!*p) {
        dur_error("invalid", s, NULL, err, errlen);
        return -1;
    }
    double total = 0;
    while (*p) {
        /* [0-9]*(\.[0-9]*)? with at least one digit, then a unit. */
        const char *num = p;
        while (isdigit((unsigned char)*p))
            p++;
        int digits = (int)(p - num);
        if (*p == '.') {
            p++;
            const char *frac = p;
            while (isdigit((unsigned char)*p))
                p++;
            digits += (int)(p - frac);
        }
        if (!digits) {
            dur_error("invalid", s, NULL, err, errlen);
            return -1;
        }
        double v = strtod(num, NULL);
        const char *u = p;
        while (*p && *p != '.' && !isdigit((unsigned char)*p))
            p++;
        if (p == u) {
            dur_error("missing unit in", s, NULL, err, errlen);
            return -1;
        }
        char unit[16];
        size_t ul = (size_t)(p - u);
        if (ul >= sizeof unit)
            ul = sizeof unit - 1;
        memcpy(unit, u, ul);
        unit[ul] = '\0';
        size_t i;
        for (i = 0; i < sizeof units / sizeof *units; i++)
            if (!strcmp(unit, units[i].name))
                break;
        if (i == sizeof units / sizeof *units) {
            dur_error(NULL, s, unit, err, errlen);
            return -1;
        }
        total += v * units[i].seconds;
    }
    /* Go's Duration is int64 ns: beyond ~292 years it is an overflow. */
    if (total > 9.2233720368e9) {
        dur_error("invalid", s, NULL, err, errlen);
        return -1;
    }
    *out = neg ? -total : total;
    return 0;
}

/* envconfig.Var: trimmed of spaces, then of quotes. */
static const char *env_var(const char *key, char *buf, size_t len)
{
    const char *v = getenv(key);
    if (!v)
        return NULL;
    while (isspace((unsigned char)*v))
        v++;
    snprintf(buf, len, "%s", v);
    size_t n = strlen(buf);
    while (n && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    char *b = buf;
    while (*b == '"' || *b == '\'')
        b++;
    n = strlen(b);
    while (n && (b[n - 1] == '"' || b[n - 1] == '\''))
        b[--n] = '\0';
    return *b ? b : NULL;
}

/* envconfig.Uint: strconv.ParseUint, else warn and keep the default. */
static void env_uint(const char *key, int *dst, long max)
{
    char buf[256];
    const char *v = env_var(key, buf, sizeof buf);
    if (!v)
        return;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (*v == '-' || *v == '+' || end == v || *end || errno) {
        pb_cli_error("invalid environment variable, using default: %s=%s (default %d)",
                     key, v, *dst);
        return;
    }
    *dst = n > (unsigned long long)max ? (int)max : (int)n;
}

static void env_host(emu_options *o)
{
    char buf[512];
    const char *v = env_var("OLLAMA_HOST", buf, sizeof buf);
    if (!v)
        return;
    /* envconfig.Host: [scheme://]host[:port][/path]; a missing port is
     * 11434 (80/443 with an http/https scheme). */
    const char *hp = v, *def_port = "11434";
    const char *sep = strstr(v, "://");
    if (sep) {
        if (!strncmp(v, "http://", 7))
            def_port = "80";
        else if (!strncmp(v, "https://", 8))
            def_port = "443";
        hp = sep + 3;
    }
    char host[256];
    snprintf(host, sizeof host, "%s", hp);
    host[strcspn(host, "/")] = '\0';
    /* net.SplitHostPort: "h:p" or "[v6]:p"; without a port the whole
     * string (brackets trimmed) is the host. */
    const char *port = def_port;
    char *h = host;
    char *colon = strchr(host, ':');
    if (host[0] == '[') {
        char *rb = strchr(host, ']');
        h = host + 1;
        if (rb) {
            *rb = '\0';
            if (rb[1] == ':')
                port = rb + 2;
        }
    } else if (colon && colon == strrchr(host, ':')) {
        *colon = '\0';
        port = colon + 1;
    }
    if (!*h)
        h = "127.0.0.1";
    char *end;
    long p = strtol(port, &end, 10);
    if (!*port || *end || p < 0 || p > 65535) {
        pb_cli_error("OLLAMA_HOST: invalid port '%s', using default %s", port, def_port);
        p = strtol(def_port, NULL, 10);
    }
    if (strlen(h) >= sizeof o->host[0]) {
        pb_cli_error("OLLAMA_HOST: host too long, ignored");
        return;
    }
    strcpy(o->host[0], h);
    o->port[0] = (int)p;
}

void emu_options_env(emu_options *o)
{
    env_uint("OLLAMA_NUM_PARALLEL", &o->num_parallel, 1024);
    /* Ollama treats OLLAMA_NUM_PARALLEL=0 as 1 (max(NumParallel, 1)). */
    if (o->num_parallel < 1)
        o->num_parallel = 1;
    env_uint("OLLAMA_MAX_QUEUE", &o->max_queue, 1000000);
    env_uint("OLLAMA_MAX_LOADED_MODELS", &o->max_loaded, EMU_MAX_MODELS);
    env_uint("OLLAMA_CONTEXT_LENGTH", &o->context_length, 16777216);
    char buf[256];
    const char *ka = env_var("OLLAMA_KEEP_ALIVE", buf, sizeof buf);
    if (ka) {
        /* envconfig.KeepAlive: a Go duration, else whole seconds, else the
         * default (silently); negative means forever. */
        double d;
        char err[128];
        char *end;
        long long n = strtoll(ka, &end, 10);
        if (!emu_duration_parse(ka, &d, err, sizeof err))
            o->keep_alive_s = d;
        else if (end != ka && !*end)
            o->keep_alive_s = (double)n;
        if (o->keep_alive_s < 0)
            o->keep_alive_s = -1;
    }
    env_host(o);
}
