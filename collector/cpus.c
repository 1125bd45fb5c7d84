/* cpus: CPU lists and affinity (see cpus.h for why). */
#define _GNU_SOURCE /* cpu_set_t and sched_setaffinity(); before any header */
#include "cpus.h"

#include <sched.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cpu_set_t g_before;   /* allowed before --cpus */
static int g_applied;

static int parse_num(const char **p, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(*p, &end, 10);
    if (end == *p || errno || v < 0 || *p[0] == '-' || *p[0] == '+')
        return -1;
    *out = v;
    *p = end;
    return 0;
}

static int parse(const char *list, cpu_set_t *set, char *err, size_t errlen)
{
    CPU_ZERO(set);
    const char *p = list;
    for (;;) {
        long a, b;
        if (parse_num(&p, &a) != 0)
            goto bad;
        b = a;
        if (*p == '-') {
            p++;
            if (parse_num(&p, &b) != 0 || b < a)
                goto bad;
        }
        if (b >= CPU_SETSIZE) {
            snprintf(err, errlen, "--cpus %s: CPU %ld does not exist (numbers below %d)", list, b,
                     CPU_SETSIZE);
            return -1;
        }
        for (long i = a; i <= b; i++)
            CPU_SET((int)i, set);
        if (*p == '\0')
            break;
        if (*p != ',')
            goto bad;
        p++;
    }
    return 0;
bad:
    snprintf(err, errlen, "--cpus %s: give CPU numbers and ranges, e.g. 0 or 0-1 or 0,2-3", list);
    return -1;
}

static void format(const cpu_set_t *set, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < CPU_SETSIZE; i++) {
        if (!CPU_ISSET(i, set))
            continue;
        int j = i;
        while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, set))
            j++;
        int w = j > i ? snprintf(buf + n, len - n, "%s%d-%d", n ? "," : "", i, j)
                      : snprintf(buf + n, len - n, "%s%d", n ? "," : "", i);
        if (w < 0 || (size_t)w >= len - n) {
            buf[n] = '\0'; /* a list too long for buf is cut at a range */
            return;
        }
        n += (size_t)w;
        i = j;
    }
}

int pb_cpus_apply(const char *list, char *err, size_t errlen)
{
    cpu_set_t want, allowed, both;
    if (parse(list, &want, err, errlen) != 0)
        return -1;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        snprintf(err, errlen, "--cpus %s: cannot read the CPUs allowed: %s", list, strerror(errno));
        return -1;
    }
    CPU_AND(&both, &want, &allowed);
    if (!CPU_EQUAL(&both, &want)) {
        char a[256];
        format(&allowed, a, sizeof a);
        snprintf(err, errlen, "--cpus %s: this process may only run on CPUs %s", list, a);
        return -1;
    }
    if (sched_setaffinity(0, sizeof want, &want) != 0) {
        snprintf(err, errlen, "--cpus %s: %s", list, strerror(errno));
        return -1;
    }
    g_before = allowed;
    g_applied = 1;
    return 0;
}

static int others(cpu_set_t *set)
{
    cpu_set_t now;
    CPU_ZERO(set);
    if (!g_applied || sched_getaffinity(0, sizeof now, &now) != 0)
        return -1;
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &g_before) && !CPU_ISSET(i, &now))
            CPU_SET(i, set);
    return CPU_COUNT(set) > 0 ? 0 : -1;
}

int pb_cpus_normalize(const char *list, char *out, size_t outlen, char *err, size_t errlen)
{
    cpu_set_t s;
    if (parse(list, &s, err, errlen) != 0)
        return -1;
    format(&s, out, outlen);
    return 0;
}

void pb_cpus_current(char *out, size_t outlen)
{
    cpu_set_t now;
    if (sched_getaffinity(0, sizeof now, &now) != 0)
        CPU_ZERO(&now);
    format(&now, out, outlen);
}

void pb_cpus_others(char *out, size_t outlen)
{
    cpu_set_t o;
    others(&o);
    format(&o, out, outlen);
}

int pb_cpus_move_to_others(void)
{
    cpu_set_t o;
    if (others(&o) != 0)
        return 0;
    return sched_setaffinity(0, sizeof o, &o) == 0 ? 0 : -1;
}
