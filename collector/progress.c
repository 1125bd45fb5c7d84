#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

int pb_progress_parse(const char *s, pb_progress_mode *m)
{
    static const char *names[] = {"auto", "tty", "lines", "none"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *m = (pb_progress_mode)i;
            return 0;
        }
    return -1;
}

void pb_progress_init(pb_progress *p, pb_progress_mode m, int total, int to_run)
{
    memset(p, 0, sizeof *p);
    if (m == PB_PROGRESS_AUTO)
        m = isatty(2) ? PB_PROGRESS_TTY : PB_PROGRESS_LINES;
    p->mode = m;
    p->total = total;
    p->to_run = to_run;
}

static void fmt_dur(char *b, size_t n, double s)
{
    if (s < 0)
        snprintf(b, n, "--");
    else if (s < 60)
        snprintf(b, n, "%.0fs", s);
    else if (s < 3600)
        snprintf(b, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(b, n, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

void pb_progress_clear(pb_progress *p)
{
    if (p->mode == PB_PROGRESS_TTY && p->bar_drawn) {
        fputs("\r\033[K", stderr);
        p->bar_drawn = 0;
    }
}

/* Columns of the terminal on stderr (asked each time: it may be resized),
 * else $COLUMNS, else 80. */
static int term_columns(void)
{
    struct winsize ws;
    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    int n = c ? atoi(c) : 0;
    return n > 0 && n < 10000 ? n : 80;
}

/* Cuts s to at most `cols` characters (UTF-8 sequences count once). */
static void fit_columns(char *s, int cols)
{
    int n = 0;
    for (char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xc0) == 0x80)
            continue;
        if (n++ == cols) {
            *p = '\0';
            return;
        }
    }
}

void pb_progress_begin(pb_progress *p, const char *runtime, const char *config, int k)
{
    p->index++;
    p->run_t0 = uv_hrtime();
    if (p->mode != PB_PROGRESS_TTY)
        return;
    double eta = -1;
    if (p->executed > 0)
        eta = (double)p->exec_ns / p->executed * (p->to_run - p->executed) / 1e9;
    char e[32];
    fmt_dur(e, sizeof e, eta);
    int width = 24, fill = p->total ? (p->index - 1) * width / p->total : 0;
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    /* A line as wide as the terminal wraps, and "\r" then returns only to
     * the start of the last row: every update would leave a line behind.
     * Stay one column short of the width. */
    char line[1024];
    snprintf(line, sizeof line, "[%s] run %d of %d  %s  %s  #%d  ETA %s", bar, p->index,
             p->total, runtime, config, k, e);
    fit_columns(line, term_columns() - 1);
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    p->bar_drawn = 1;
}

void pb_progress_end(pb_progress *p, const char *runtime, const char *config, int k,
                     int executed, const char *status)
{
    double dt = (double)(uv_hrtime() - p->run_t0) / 1e9;
    if (executed) {
        p->executed++;
        p->exec_ns += uv_hrtime() - p->run_t0;
    }
    if (p->mode == PB_PROGRESS_NONE || !status)
        return;
    if (p->mode == PB_PROGRESS_TTY) {
        /* The bar is redrawn by the next begin; only noteworthy runs leave
         * a line behind. */
        if (strcmp(status, "ok") != 0 && strncmp(status, "skipped", 7) != 0) {
            pb_progress_clear(p);
            fprintf(stderr, "run %d/%d %s %s #%d: %s\n", p->index, p->total, runtime, config, k, status);
        }
        return;
    }
    fprintf(stderr, "run %d/%d %s %s #%d: %s", p->index, p->total, runtime, config, k, status);
    if (executed)
        fprintf(stderr, " (%.2fs)", dt);
    fputc('\n', stderr);
}
