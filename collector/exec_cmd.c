/* exec_cmd: an exec runtime's command line (see exec_cmd.h). */
#include "exec_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pb_fs.h"
#include "pb_mem.h"

int pb_exec_argc(char *const *argv)
{
    int n = 0;
    while (argv && argv[n])
        n++;
    return n;
}

char **pb_exec_argv_dup(char *const *argv)
{
    int n = pb_exec_argc(argv);
    char **d = pb_mem_calloc((size_t)n + 1, sizeof *d);
    for (int i = 0; i < n; i++)
        d[i] = pb_mem_strdup(argv[i]);
    return d;
}

void pb_exec_argv_free(char **argv)
{
    for (int i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

char **pb_exec_split(const char *command, char *err, size_t errlen)
{
    size_t cap = strlen(command) + 1;
    char *word = malloc(cap); /* a word is never longer than the command */
    char **argv = calloc(cap + 1, sizeof *argv);
    if (!word || !argv)
        PB_MEM_OOM();
    int n = 0;
    const char *p = command;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        size_t len = 0;
        char quote = 0;
        for (; *p; p++) {
            if (quote == '\'') {
                if (*p == '\'')
                    quote = 0;
                else
                    word[len++] = *p;
            } else if (quote == '"') {
                if (*p == '"')
                    quote = 0;
                else if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
                    word[len++] = *++p;
                else
                    word[len++] = *p;
            } else if (*p == '\'' || *p == '"') {
                quote = *p;
            } else if (*p == '\\' && p[1]) {
                word[len++] = *++p;
            } else if (*p == ' ' || *p == '\t' || *p == '\n') {
                break;
            } else {
                word[len++] = *p;
            }
        }
        if (quote) {
            snprintf(err, errlen, "cannot split the command \"%s\": an unclosed %c quote", command, quote);
            free(word);
            pb_exec_argv_free(argv);
            return NULL;
        }
        word[len] = '\0';
        argv[n++] = pb_mem_strdup(word);
    }
    free(word);
    if (n == 0) {
        snprintf(err, errlen, "the command is empty: give the program and its arguments");
        pb_exec_argv_free(argv);
        return NULL;
    }
    return argv;
}

int pb_exec_resolve(const char *argv0, char *path, size_t pathlen, char *err, size_t errlen)
{
    if (pb_fs_find_program(argv0, path, pathlen) == 0)
        return 0;
    if (strchr(argv0, '/'))
        snprintf(err, errlen, "program %s is missing or not executable: build it, or give its path", argv0);
    else
        snprintf(err, errlen, "program %s is not on PATH: install it, or give its path", argv0);
    return -1;
}

/* Appends n bytes of s to the growing string *b (length *len, capacity *cap). */
static void put(char **b, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *b = realloc(*b, *cap);
        if (!*b)
            PB_MEM_OOM();
    }
    memcpy(*b + *len, s, n);
    *len += n;
    (*b)[*len] = '\0';
}

char *pb_exec_fill(const char *arg, const char *model, int agents, pb_exec_endpoint_fn endpoint,
                   void *ud, char *err, size_t errlen)
{
    char *b = NULL;
    size_t len = 0, cap = 0;
    put(&b, &len, &cap, "", 0);
    for (const char *p = arg; *p;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (!close) {
            put(&b, &len, &cap, p, 1);
            p++;
            continue;
        }
        size_t n = (size_t)(close - p - 1);
        char num[32];
        if (n == 5 && strncmp(p + 1, "model", 5) == 0) {
            put(&b, &len, &cap, model, strlen(model));
        } else if (n == 6 && strncmp(p + 1, "agents", 6) == 0) {
            snprintf(num, sizeof num, "%d", agents);
            put(&b, &len, &cap, num, strlen(num));
        } else if (n > 9 && strncmp(p + 1, "endpoint:", 9) == 0) {
            char id[256];
            snprintf(id, sizeof id, "%.*s", (int)(n - 9), p + 10);
            const char *url = endpoint(ud, id);
            if (!url) {
                snprintf(err, errlen, "argument \"%s\": no agent \"%s\" in this phase for {endpoint:%s}",
                         arg, id, id);
                free(b);
                return NULL;
            }
            put(&b, &len, &cap, url, strlen(url));
        } else {
            put(&b, &len, &cap, p, 1); /* not a template: kept */
            p++;
            continue;
        }
        p = close + 1;
    }
    return b;
}

/* Why a build-time path first: the binary may be copied or symlinked; the
 * tree it was built from is where its agents were built. */
int pb_exec_root(char *root, size_t len)
{
    char probe[4200];
#ifdef PARBENCH_SOURCE_DIR
    snprintf(probe, sizeof probe, "%s/agents/README.md", PARBENCH_SOURCE_DIR);
    if (access(probe, R_OK) == 0) {
        snprintf(root, len, "%s", PARBENCH_SOURCE_DIR);
        return 0;
    }
#endif
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    for (int up = 0; up < 3; up++) { /* collect -> collector/ -> build/ -> the tree */
        char *slash = strrchr(exe, '/');
        if (!slash)
            return -1;
        *slash = '\0';
    }
    snprintf(probe, sizeof probe, "%s/agents/README.md", exe);
    if (access(probe, R_OK) != 0)
        return -1;
    snprintf(root, len, "%s", exe);
    return 0;
}

char *pb_exec_expand_root(const char *word, char *err, size_t errlen)
{
    static const char tpl[] = "{parbench}";
    const char *at = strstr(word, tpl);
    if (!at)
        return pb_mem_strdup(word);
    char root[4096];
    if (pb_exec_root(root, sizeof root) != 0) {
        snprintf(err, errlen, "%s: cannot find parbench's source tree (agents/) for {parbench}: "
                 "neither where collect was built nor two levels above its binary; give the "
                 "program's path instead", word);
        return NULL;
    }
    size_t l = strlen(word) + strlen(root) + 1;
    char *out = pb_mem_alloc(l);
    snprintf(out, l, "%.*s%s%s", (int)(at - word), word, root, at + sizeof tpl - 1);
    return out;
}
