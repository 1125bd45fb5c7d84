/* pb_fs: the streamed atomic write. Content written in pieces (across the
 * 64 KiB buffer) arrives whole and in order; an emitter that gives up
 * leaves neither the file nor its temp file behind, and an old file of
 * that name untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pb_fs.h"

typedef struct emit_state {
    int pieces;     /* how many pieces of 1000 bytes */
    int fail_after; /* give up after this many (-1: never) */
} emit_state;

static int emit_pieces(pb_fs_out *o, void *ud)
{
    const emit_state *e = ud;
    char piece[1000];
    for (int i = 0; i < e->pieces; i++) {
        if (i == e->fail_after)
            return -1;
        memset(piece, 'a' + i % 26, sizeof piece);
        if (pb_fs_out_write(o, piece, sizeof piece) != 0)
            return -1;
    }
    return 0;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    if (d)
        closedir(d);
    return n;
}

static void test_streamed(void **st)
{
    (void)st;
    char dir[] = "/tmp/pb_fs_XXXXXX", path[64], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.txt", dir);
    /* 150 pieces: 150,000 bytes, more than twice the buffer. */
    emit_state e = {150, -1};
    assert_int_equal(pb_fs_write_atomic_with(path, emit_pieces, &e, err, sizeof err), 0);
    char *buf;
    size_t len;
    assert_int_equal(pb_fs_read_all(path, 1 << 20, &buf, &len, err, sizeof err), 0);
    assert_int_equal(len, 150000);
    for (size_t i = 0; i < len; i++)
        if (buf[i] != 'a' + (char)((i / 1000) % 26))
            fail_msg("byte %zu is %c", i, buf[i]);
    free(buf);

    /* Giving up mid-way: the old file stays as it was, no temp file. */
    emit_state bad = {150, 100};
    err[0] = '\0';
    assert_int_equal(pb_fs_write_atomic_with(path, emit_pieces, &bad, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    assert_int_equal(count_entries(dir), 1);
    assert_int_equal(pb_fs_read_all(path, 1 << 20, &buf, &len, err, sizeof err), 0);
    assert_int_equal(len, 150000);
    free(buf);
    unlink(path);
    rmdir(dir);
}

/* Issue 22 §3: a name planted in the output folder where the writer would
 * put its temp file (the old, predictable ".NAME.tmp.PID") is a symlink to
 * a file elsewhere; the write must leave that file alone. A symlink at the
 * destination name itself is replaced, not followed. */
static void test_planted_symlink(void **st)
{
    (void)st;
    char dir[] = "/tmp/pb_fs_XXXXXX", path[64], tmp[128], victim[64], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.txt", dir);
    snprintf(victim, sizeof victim, "%s/victim", dir);
    assert_int_equal(pb_fs_write_atomic(victim, "precious\n", 9, err, sizeof err), 0);
    snprintf(tmp, sizeof tmp, "%s/.out.txt.tmp.%ld", dir, (long)getpid());
    assert_int_equal(symlink(victim, tmp), 0);
    assert_int_equal(pb_fs_write_atomic(path, "new\n", 4, err, sizeof err), 0);
    char *buf;
    size_t len;
    assert_int_equal(pb_fs_read_all(victim, 1 << 20, &buf, &len, err, sizeof err), 0);
    assert_string_equal(buf, "precious\n");
    free(buf);
    assert_int_equal(pb_fs_read_all(path, 1 << 20, &buf, &len, err, sizeof err), 0);
    assert_string_equal(buf, "new\n");
    free(buf);
    /* The destination a symlink to the victim: replaced by a file. */
    unlink(path);
    assert_int_equal(symlink(victim, path), 0);
    assert_int_equal(pb_fs_write_atomic(path, "again\n", 6, err, sizeof err), 0);
    struct stat sb;
    assert_int_equal(lstat(path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(pb_fs_read_all(victim, 1 << 20, &buf, &len, err, sizeof err), 0);
    assert_string_equal(buf, "precious\n");
    free(buf);
    /* A derived file (no fsync) keeps the other promises: the link at the
     * destination is replaced, its target untouched, no temp file left. */
    unlink(path);
    assert_int_equal(symlink(victim, path), 0);
    assert_int_equal(pb_fs_write_derived(path, "derived\n", 8, err, sizeof err), 0);
    assert_int_equal(lstat(path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(pb_fs_read_all(path, 1 << 20, &buf, &len, err, sizeof err), 0);
    assert_string_equal(buf, "derived\n");
    free(buf);
    assert_int_equal(pb_fs_read_all(victim, 1 << 20, &buf, &len, err, sizeof err), 0);
    assert_string_equal(buf, "precious\n");
    free(buf);
    /* An ordinary file's mode (umask 022, set in main): 0644, as creat() gives. */
    assert_int_equal(pb_fs_write_atomic(path, "m\n", 2, err, sizeof err), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
    /* A process started with umask 077 gets 0600 (this program again, in
     * its --write mode: the umask is read once per process, so a fork of
     * this one would still hold 022). */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        umask(077);
        execl("/proc/self/exe", "test_common_fs", "--write", path, (char *)NULL);
        _exit(127);
    }
    int wst;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* Nothing else left: out.txt, victim and the planted link. */
    assert_int_equal(count_entries(dir), 3);
    unlink(tmp);
    unlink(path);
    unlink(victim);
    rmdir(dir);
}

static void test_tmp_pid(void **st)
{
    (void)st;
    assert_int_equal(pb_fs_tmp_pid(".run_1.json.tmp.123.aB9xYz"), 123);
    assert_int_equal(pb_fs_tmp_pid(".run_1.json.tmp.123"), 123);
    assert_int_equal(pb_fs_tmp_pid(".x.tmp.json.tmp.77.abcdef"), 77);
    assert_int_equal(pb_fs_tmp_pid("run_1.json.tmp.123"), -1);
    assert_int_equal(pb_fs_tmp_pid(".run_1.json.tmp."), -1);
    assert_int_equal(pb_fs_tmp_pid(".run_1.json.tmp.12x"), -1);
    assert_int_equal(pb_fs_tmp_pid(".run_1.json.tmp.12.abc"), -1);
    assert_int_equal(pb_fs_tmp_pid(".run_1.json.tmp.-5"), -1);
    assert_int_equal(pb_fs_tmp_pid(".plain"), -1);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write") == 0) {
        char err[512];
        return pb_fs_write_atomic(argv[2], "m\n", 2, err, sizeof err) == 0 ? 0 : 1;
    }
    /* pb_fs reads the umask once per process (its first write): set the one
     * the mode check below expects before anything is written. */
    umask(022);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_streamed),
                                       cmocka_unit_test(test_planted_symlink),
                                       cmocka_unit_test(test_tmp_pid)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
