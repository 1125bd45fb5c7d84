#include "pb_fs.h"

#include <errno.h>
#include <fcntl.h>
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

int pb_fs_write_atomic_with(const char *path, pb_fs_emit_fn emit, void *ud,
                            char *err, size_t errlen)
{
    char dir[4096], tmp[4200];
    if (errlen)
        err[0] = '\0';
    dir_of(path, dir, sizeof dir);
    if (pb_fs_mkdirs(dir, err, errlen) != 0)
        return -1;
    /* The temp name carries the pid so two writers never share a temp file;
     * the leading dot keeps readers (analyze, resume) from picking it up. */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", dir, base, (long)getpid());

    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
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
    if (fsync(fd) != 0) {
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
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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

int pb_fs_write_atomic(const char *path, const void *data, size_t len,
                       char *err, size_t errlen)
{
    whole w = {data, len};
    return pb_fs_write_atomic_with(path, emit_whole, &w, err, errlen);
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
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot stat: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "not a regular file");
        close(fd);
        return -1;
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        snprintf(err, errlen, "file is %lld bytes, over the %zu-byte limit",
                 (long long)st.st_size, max_bytes);
        close(fd);
        return -2;
    }
    size_t cap = (size_t)st.st_size;
    char *buf = malloc(cap + 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory for %zu bytes", cap);
        close(fd);
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
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    *outlen = got;
    return 0;
}
