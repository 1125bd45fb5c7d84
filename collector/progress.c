#include "progress.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

/* One lock for every write to stderr made by the sweep's thread, the
 * ticker, so a bar is never drawn into a message. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_wake;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_t g_ticker;
static int g_ticker_stop;
static atomic_uint_least64_t g_tokens;
/* The progress whose bar may be on screen (pb_progress_init to _finish),
 * so that pb_progress_say can erase it from any module. Under g_lock. */
static pb_progress *g_shown;

/* The ticker waits on a monotonic clock: a wall-clock step must not stall
 * (or hurry) the redraws. */
static void once_init(void)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&g_wake, &a);
    pthread_condattr_destroy(&a);
}

void pb_progress_count_message(void)
{
    atomic_fetch_add_explicit(&g_tokens, 1, memory_order_relaxed);
}

uint64_t pb_progress_tokens(void)
{
    return atomic_load_explicit(&g_tokens, memory_order_relaxed);
}

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

/* Characters of s (UTF-8 sequences count once). */
static int width_of(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* Cuts s to at most `cols` characters (never inside a UTF-8 sequence). */
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

/* One layout of the bar: which parts, how separated; the config name is
 * cut to what is left (at least MIN_CFG characters, else the next layout). */
enum { MIN_CFG = 4 };
typedef struct layout {
    int bar, sep2, k, tokens, names, live;
} layout;

void pb_progress_format(char *out, size_t outlen, int cols, const pb_progress_view *v)
{
    /* From the most to the least complete: the bar goes first, then the
     * spacing, the run's #k, the token count, runtime and config, the
     * run's time; "run k/N" and the ETA stay. */
    static const layout L[] = {
        {1, 1, 1, 1, 1, 1}, {0, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1}, {0, 0, 0, 1, 1, 1},
        {0, 0, 0, 0, 1, 1}, {0, 0, 0, 1, 0, 1}, {0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0},
    };
    int room = cols - 1;
    char head[64], eta[32], el[32], bar[40], cfg[192];
    snprintf(head, sizeof head, "run %d/%d", v->index, v->total);
    fmt_dur(eta, sizeof eta, v->eta_s);
    fmt_dur(el, sizeof el, v->elapsed_s);
    int width = 24, fill = v->total ? (v->index - 1) * width / v->total : 0;
    bar[0] = '[';
    for (int i = 0; i < width; i++)
        bar[1 + i] = i < fill ? '#' : '.';
    snprintf(bar + 1 + width, sizeof bar - 1 - (size_t)width, "] ");
    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++) {
        const layout *l = &L[i];
        const char *sp = l->sep2 ? "  " : " ";
        char live[64] = "", k[24] = "";
        if (v->elapsed_s >= 0 && l->live) {
            if (l->tokens)
                snprintf(live, sizeof live, "%s%s %llu tok", sp, el, (unsigned long long)v->tokens);
            else
                snprintf(live, sizeof live, "%s%s", sp, el);
        }
        if (l->k)
            snprintf(k, sizeof k, "%s#%d", sp, v->k);
        snprintf(cfg, sizeof cfg, "%s", v->config);
        int used = (l->bar ? width_of(bar) : 0) + width_of(head) + width_of(live) +
                   width_of(sp) + 4 + width_of(eta);
        if (l->names) {
            used += 2 * width_of(sp) + width_of(v->runtime) + width_of(k);
            int left = room - used;
            if (width_of(cfg) > left) {
                if (left - 2 < MIN_CFG)
                    continue;
                fit_columns(cfg, left - 2);
                strcat(cfg, "..");
            }
            snprintf(out, outlen, "%s%s%s%s%s%s%s%s%sETA %s", l->bar ? bar : "", head, sp,
                     v->runtime, sp, cfg, k, live, sp, eta);
            return;
        }
        if (used <= room || i == sizeof L / sizeof L[0] - 1) {
            snprintf(out, outlen, "%s%s%sETA %s", head, live, sp, eta);
            fit_columns(out, room > 0 ? room : 0);
            return;
        }
    }
}

/* Callers hold g_lock. */
static void clear_locked(pb_progress *p)
{
    if (p->mode == PB_PROGRESS_TTY && p->bar_drawn) {
        fputs("\r\033[K", stderr);
        p->bar_drawn = 0;
    }
}

static void draw_locked(pb_progress *p)
{
    double avg = p->executed > 0 ? (double)p->exec_ns / p->executed / 1e9 : -1;
    double elapsed = p->running ? (double)(uv_hrtime() - p->run_t0) / 1e9 : -1;
    double eta = -1;
    if (avg >= 0) {
        /* Runs left after this one, plus what this one has left. */
        eta = avg * (p->to_run - p->executed);
        if (p->running)
            eta -= elapsed < avg ? elapsed : avg;
        if (eta < 0)
            eta = 0;
    }
    pb_progress_view v = {p->index, p->total, p->k, p->runtime, p->config, elapsed,
                          p->running ? pb_progress_tokens() - p->tokens0 : 0, eta};
    char line[1024];
    pb_progress_format(line, sizeof line, term_columns(), &v);
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    p->bar_drawn = 1;
}

/* Redraws the bar of the run in progress four times a second: elapsed
 * time and tokens move even when a run takes a minute. */
static void *ticker_main(void *arg)
{
    pb_progress *p = arg;
    pthread_mutex_lock(&g_lock);
    while (!g_ticker_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 250 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g_wake, &g_lock, &ts);
        if (!g_ticker_stop && p->running)
            draw_locked(p);
    }
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

void pb_progress_init(pb_progress *p, pb_progress_mode m, int total, int to_run)
{
    pthread_once(&g_once, once_init);
    memset(p, 0, sizeof *p);
    if (m == PB_PROGRESS_AUTO)
        m = isatty(2) ? PB_PROGRESS_TTY : PB_PROGRESS_LINES;
    p->mode = m;
    p->total = total;
    p->to_run = to_run;
    pthread_mutex_lock(&g_lock);
    g_ticker_stop = 0;
    g_shown = p;
    pthread_mutex_unlock(&g_lock);
    /* Without a ticker the bar still updates per run, as before. */
    if (m == PB_PROGRESS_TTY)
        p->ticker_on = pthread_create(&g_ticker, NULL, ticker_main, p) == 0;
}

void pb_progress_finish(pb_progress *p)
{
    if (p->ticker_on) {
        pthread_mutex_lock(&g_lock);
        g_ticker_stop = 1;
        pthread_cond_signal(&g_wake);
        pthread_mutex_unlock(&g_lock);
        pthread_join(g_ticker, NULL);
        p->ticker_on = 0;
    }
    pthread_mutex_lock(&g_lock);
    p->running = 0;
    clear_locked(p);
    if (g_shown == p)
        g_shown = NULL;
    pthread_mutex_unlock(&g_lock);
}

void pb_progress_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&g_lock);
    if (g_shown)
        clear_locked(g_shown);   /* the ticker redraws it within 250 ms */
    vfprintf(stderr, fmt, ap);
    fflush(stderr);
    pthread_mutex_unlock(&g_lock);
    va_end(ap);
}

void pb_progress_clear(pb_progress *p)
{
    pthread_mutex_lock(&g_lock);
    clear_locked(p);
    pthread_mutex_unlock(&g_lock);
}

void pb_progress_begin(pb_progress *p, const char *runtime, const char *config, int k)
{
    pthread_mutex_lock(&g_lock);
    p->index++;
    p->run_t0 = uv_hrtime();
    p->running = 1;
    p->k = k;
    snprintf(p->runtime, sizeof p->runtime, "%s", runtime);
    snprintf(p->config, sizeof p->config, "%s", config);
    p->tokens0 = pb_progress_tokens();
    if (p->mode == PB_PROGRESS_TTY)
        draw_locked(p);
    pthread_mutex_unlock(&g_lock);
}

void pb_progress_end(pb_progress *p, const char *runtime, const char *config, int k,
                     int executed, const char *status)
{
    pthread_mutex_lock(&g_lock);
    uint64_t dt_ns = uv_hrtime() - p->run_t0;
    p->running = 0;
    if (executed) {
        p->executed++;
        p->exec_ns += dt_ns;
    }
    if (p->mode == PB_PROGRESS_NONE || !status) {
        pthread_mutex_unlock(&g_lock);
        return;
    }
    if (p->mode == PB_PROGRESS_TTY) {
        /* The bar is redrawn by the next begin; only noteworthy runs leave
         * a line behind. */
        if (strcmp(status, "ok") != 0 && strncmp(status, "skipped", 7) != 0) {
            clear_locked(p);
            fprintf(stderr, "run %d/%d %s %s #%d: %s\n", p->index, p->total, runtime, config, k, status);
        }
        pthread_mutex_unlock(&g_lock);
        return;
    }
    fprintf(stderr, "run %d/%d %s %s #%d: %s", p->index, p->total, runtime, config, k, status);
    if (executed)
        fprintf(stderr, " (%.2fs)", (double)dt_ns / 1e9);
    fputc('\n', stderr);
    pthread_mutex_unlock(&g_lock);
}

/* ---- the answer ---------------------------------------------------------- */

void pb_progress_answer_add(pb_progress_answer *a, double speedup)
{
    if (!(speedup > 0) || !isfinite(speedup)) {
        a->n_without++;
        return;
    }
    a->min = a->n == 0 || speedup < a->min ? speedup : a->min;
    a->max = a->n == 0 || speedup > a->max ? speedup : a->max;
    a->sum_log += log(speedup);
    a->n++;
}

void pb_progress_answer_line(char *out, size_t outlen, const char *runtime, int width,
                             const pb_progress_answer *a)
{
    if (a->n == 0) {
        snprintf(out, outlen, "%-*s no measured speedup: %d run%s measured now, none valid with "
                 "solo phases", width, runtime, a->n_without, a->n_without == 1 ? "" : "s");
        return;
    }
    double g = exp(a->sum_log / a->n);
    int l = snprintf(out, outlen, "%-*s speedup %.2fx vs sequential (geometric mean of %d "
                     "run%s measured now", width, runtime, g, a->n, a->n == 1 ? "" : "s");
    if (l > 0 && (size_t)l < outlen && a->configs > 1)
        l += snprintf(out + l, outlen - (size_t)l, " over %d configs", a->configs);
    if (l > 0 && (size_t)l < outlen && a->n > 1)
        l += snprintf(out + l, outlen - (size_t)l, ", %.2fx to %.2fx", a->min, a->max);
    if (l > 0 && (size_t)l < outlen && a->n_without)
        l += snprintf(out + l, outlen - (size_t)l, "; %d without a speedup", a->n_without);
    if (l > 0 && (size_t)l < outlen)
        snprintf(out + l, outlen - (size_t)l, ")");
}
