/* mkostemp (create the temp file exclusively, close-on-exec) is a GNU
 * extension of glibc. */
#define _GNU_SOURCE
#include "pb_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pb_fs_mkdirs(const char *dir, char *err, size_t errlen)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0)
        return 0;
    if (n >= sizeof buf) {
        snprintf(err, errlen, "path too long: %.64s...", dir);
        return -1;
    }
    memcpy(buf, dir, n + 1);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create directory %s: %s", buf,
                         strerror(errno));
                return -1;
            }
            /* EEXIST says a name is there, not that it is a folder. */
            struct stat st;
            if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
                snprintf(err, errlen, "cannot create directory %s: %s", buf,
                         strerror(ENOTDIR));
                return -1;
            }
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    return 0;
}

static void dir_of(const char *path, char *out, size_t outlen)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(out, outlen, ".");
    } else if (slash == path) {
        snprintf(out, outlen, "/");
    } else {
        snprintf(out, outlen, "%.*s", (int)(slash - path), path);
    }
}

/* The process umask, read without changing it (umask(2) can only be read by
 * setting it, which would race with other threads creating files). Read
 * once (pthread_once: collect writes from several threads): parbench never
 * changes its umask, and /proc/self/status took four system calls per
 * written file. */
static mode_t umask_cached = 022;
static pthread_once_t umask_once = PTHREAD_ONCE_INIT;

static void umask_read(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    unsigned mask = 022;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Umask: %o", &mask) == 1)
            break;
    if (f)
        fclose(f);
    umask_cached = (mode_t)mask;
}

static mode_t umask_now(void)
{
    pthread_once(&umask_once, umask_read);
    return umask_cached;
}

/* Creates the temp file for path exclusively: "DIR/.BASE.tmp.PID.XXXXXX"
 * with a random suffix, O_EXCL and O_NOFOLLOW, so a name planted in the
 * output folder (a symlink to a file elsewhere, say) is never opened and
 * its target never written. The pid stays in the name so a sweep can tell a
 * dead writer's leftover (see pb_fs_tmp_pid). Returns the fd or -1. */
static int tmp_create(const char *dir, const char *base, char *tmp, size_t tmplen)
{
    int n = snprintf(tmp, tmplen, "%s/.%s.tmp.%ld.XXXXXX", dir, base, (long)getpid());
    if (n < 0 || (size_t)n >= tmplen) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkostemp(tmp, O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    /* mkostemp creates the file 0600; a written file gets the mode an
     * ordinary creat(0644) would have given it. */
    if (fchmod(fd, 0644 & ~umask_now()) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return -1;
    }
    return fd;
}

int pb_fs_check_dir(const char *dir, char *err, size_t errlen)
{
    char cur[4096];
    if (snprintf(cur, sizeof cur, "%s", dir[0] ? dir : ".") >= (int)sizeof cur) {
        snprintf(err, errlen, "path too long: %.64s...", dir);
        return -1;
    }
    /* Up to the deepest part that exists: that one must be a folder, and
     * everything below it will be created there. */
    for (int depth = 0;; depth++) {
        struct stat st;
        if (stat(cur, &st) == 0) {
            if (!S_ISDIR(st.st_mode)) {
                snprintf(err, errlen, "%s exists and is not a folder%s%s", cur,
                         depth ? ", so " : "", depth ? dir : "");
                if (depth)
                    snprintf(err + strlen(err), errlen - strlen(err), " cannot be one");
                return -1;
            }
            break;
        }
        if (errno != ENOENT && errno != ENOTDIR) {
            snprintf(err, errlen, "cannot reach %s: %s", cur, strerror(errno));
            return -1;
        }
        char up[4096];
        dir_of(cur, up, sizeof up);
        if (strcmp(up, cur) == 0) {
            snprintf(err, errlen, "cannot reach %s: %s", cur, strerror(errno));
            return -1;
        }
        memcpy(cur, up, sizeof cur);
    }
    /* A file created and removed is the only test that holds: permission
     * bits do not stop root, and a read-only mount or a pseudo file system
     * (/proc) refuses only at creation. */
    char tmp[4200];
    int fd = tmp_create(cur, "parbench-probe", tmp, sizeof tmp);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create files in %s: %s", cur, strerror(errno));
        return -1;
    }
    close(fd);
    unlink(tmp);
    return 0;
}

long pb_fs_tmp_pid(const char *name)
{
    if (name[0] != '.')
        return -1;
    /* The last ".tmp." (a file may itself be called "x.tmp.json"). */
    const char *t = NULL;
    for (const char *p = strstr(name, ".tmp."); p; p = strstr(p + 1, ".tmp."))
        t = p;
    if (!t)
        return -1;
    char *end;
    errno = 0;
    long pid = strtol(t + 5, &end, 10);
    if (errno || end == t + 5 || pid <= 0)
        return -1;
    /* ".PID.XXXXXX" (mkostemp's six characters) or the older ".PID". */
    if (*end == '.' && strlen(end + 1) == 6)
        return pid;
    return *end == '\0' ? pid : -1;
}

struct pb_fs_out {
    int fd;
    const char *tmp;
    char *err;
    size_t errlen;
    int failed;
    size_t used;
    char buf[64 * 1024];
};

static int out_flush(pb_fs_out *o)
{
    const char *p = o->buf;
    size_t left = o->used;
    while (left > 0 && !o->failed) {
        ssize_t w = write(o->fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            snprintf(o->err, o->errlen, "cannot write %s: %s", o->tmp, strerror(errno));
            o->failed = 1;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    o->used = 0;
    return o->failed ? -1 : 0;
}

int pb_fs_out_write(pb_fs_out *o, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0 && !o->failed) {
        size_t k = sizeof o->buf - o->used;
        if (k > len)
            k = len;
        memcpy(o->buf + o->used, p, k);
        o->used += k;
        p += k;
        len -= k;
        if (o->used == sizeof o->buf)
            out_flush(o);
    }
    return o->failed ? -1 : 0;
}

/* durable: fsync the file before the rename and the folder after it. */
static int write_atomic(const char *path, pb_fs_emit_fn emit, void *ud, int durable,
                        char *err, size_t errlen)
{
    char dir[4096], tmp[4200];
    if (errlen)
        err[0] = '\0';
    dir_of(path, dir, sizeof dir);
    /* Most writes go to a folder that exists: one stat, not a mkdir and a
     * stat per level. */
    struct stat dst;
    if ((stat(dir, &dst) != 0 || !S_ISDIR(dst.st_mode)) && pb_fs_mkdirs(dir, err, errlen) != 0)
        return -1;
    /* The leading dot keeps readers (analyze, resume) from picking the temp
     * file up; tmp_create makes it exclusively, never through a link. */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int fd = tmp_create(dir, base, tmp, sizeof tmp);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    pb_fs_out *o = malloc(sizeof *o);
    if (!o) {
        snprintf(err, errlen, "out of memory writing %s", tmp);
        goto fail;
    }
    *o = (pb_fs_out){.fd = fd, .tmp = tmp, .err = err, .errlen = errlen};
    /* The emitter's own failure (out of memory, say) leaves its reason in
     * err; a write failure is recorded by pb_fs_out_write. */
    int erc = emit(o, ud);
    if (erc == 0)
        out_flush(o);
    int failed = erc != 0 || o->failed;
    if (erc != 0 && !o->failed && !err[0])
        snprintf(err, errlen, "cannot produce the content of %s", path);
    free(o);
    if (failed)
        goto fail;
    /* fsync before rename: otherwise a power cut can leave the new name
     * pointing at an empty file on some file systems. */
    if (durable && fsync(fd) != 0) {
        snprintf(err, errlen, "cannot fsync %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, errlen, "cannot close %s: %s", tmp, strerror(errno));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path,
                 strerror(errno));
        goto fail;
    }
    /* Persist the directory entry too (the rename itself). Failure here is
     * not fatal for correctness of the content, so it is ignored. */
    int dfd = durable ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return -1;
}

typedef struct whole {
    const void *data;
    size_t len;
} whole;

static int emit_whole(pb_fs_out *o, void *ud)
{
    const whole *w = ud;
    return pb_fs_out_write(o, w->data, w->len);
}

int pb_fs_write_atomic_with(const char *path, pb_fs_emit_fn emit, void *ud,
                            char *err, size_t errlen)
{
    return write_atomic(path, emit, ud, 1, err, errlen);
}

int pb_fs_write_atomic(const char *path, const void *data, size_t len,
                       char *err, size_t errlen)
{
    whole w = {data, len};
    return write_atomic(path, emit_whole, &w, 1, err, errlen);
}

int pb_fs_write_derived(const char *path, const void *data, size_t len,
                        char *err, size_t errlen)
{
    whole w = {data, len};
    return write_atomic(path, emit_whole, &w, 0, err, errlen);
}

int pb_fs_read_fd(int fd, const struct stat *st, size_t max_bytes, char **out,
                  size_t *outlen, char *err, size_t errlen)
{
    *out = NULL;
    *outlen = 0;
    if (!S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "not a regular file");
        return -1;
    }
    if ((unsigned long long)st->st_size > max_bytes) {
        snprintf(err, errlen, "file is %lld bytes, over the %zu-byte limit",
                 (long long)st->st_size, max_bytes);
        return -2;
    }
    size_t cap = (size_t)st->st_size;
    char *buf = malloc(cap + 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory for %zu bytes", cap);
        return -1;
    }
    size_t got = 0;
    /* The file may change size under us; never read past cap. */
    while (got < cap) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "cannot read: %s", strerror(errno));
            free(buf);
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    *out = buf;
    *outlen = got;
    return 0;
}

int pb_fs_read_all(const char *path, size_t max_bytes, char **out,
                   size_t *outlen, char *err, size_t errlen)
{
    *out = NULL;
    *outlen = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    int rc;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot stat: %s", strerror(errno));
        rc = -1;
    } else {
        rc = pb_fs_read_fd(fd, &st, max_bytes, out, outlen, err, errlen);
    }
    close(fd);
    return rc;
}

int pb_fs_find_program(const char *name, char *out, size_t len)
{
    struct stat st;
    if (strchr(name, '/')) {
        snprintf(out, len, "%s", name);
        return stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0 ? 0 : -1;
    }
    const char *path = getenv("PATH");
    char dirs[8192];
    snprintf(dirs, sizeof dirs, "%s", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        /* An empty entry means the current folder, as for execvp. */
        snprintf(out, len, "%s/%s", *d ? d : ".", name);
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
            return 0;
    }
    return -1;
}

int pb_fs_pipe_cloexec(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}
