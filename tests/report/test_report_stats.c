/* report/pb_report_stats.c: the Markdown of issue 8's statistics, on a
 * balanced 2 runtimes x 2 configs x 3 runs design worked out by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pb_analysis.h"
#include "pb_report_stats.h"
#include "pb_result.h"
#include "pb_stats.h"
#include "pb_test_runs.h"

#define HAS(md, s) do { if (!strstr((md), (s))) fail_msg("missing: %s\n---\n%s", (s), (md)); } while (0)

/* Efficiencies: fast/c1 80 82 84, fast/c2 70 72 74, slow/c1 60 62 64,
 * slow/c2 50 52 54. Walls: 10, 10, 10 except fast/c1 run 1 = 30 (a slow
 * first run, an outlier). */
static void build(pb_dataset *ds)
{
    const char *rts[] = {"fast", "slow"}, *cfg[] = {"c1", "c2"};
    double base[2][2] = {{80, 70}, {60, 50}};
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++)
            for (int k = 0; k < 3; k++) {
                pb_run *run = tr_add_run(ds, rts[r], cfg[c], k + 1, 2);
                run->est_efficiency = base[r][c] + 2 * k;
                run->est_speedup = run->est_efficiency / 50;
                run->wall_s = (r == 0 && c == 0 && k == 0) ? 30 : 10 + 0.1 * k;
            }
}

static char *render(const pb_dataset *ds, const pb_analysis *a, const pb_report_opts *op,
                    void (*fn)(FILE *, const pb_dataset *, const pb_analysis *,
                               const pb_report_opts *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fn(f, ds, a, op);
    fclose(f);
    return buf;
}

static void test_sections(void **st)
{
    (void)st;
    pb_dataset ds = {0};
    build(&ds);
    pb_analysis_opts ao = {.seed = 1, .baseline = "slow"};
    pb_analysis a;
    assert_int_equal(pb_analysis_build_opts(&ds, &ao, &a), 0);
    pb_result res = {.opts = {.baseline = "slow"}};
    pb_report_opts op = {.res = &res};
    char *md = render(&ds, &a, &op, pb_report_comparisons);
    /* One pair, one family per metric; oriented fast vs baseline slow.
     * mean(fast) = 77, mean(slow) = 57: +20.00. */
    HAS(md, "Against the baseline **slow**: its pairs are the rows marked ★");
    HAS(md, "Family `all pairs: est_efficiency`: 1 pair.");
    HAS(md, "| fast | slow ★ | 6 | 6 | +20.00 |");
    free(md);
    md = render(&ds, &a, &op, pb_report_design);
    /* Balanced ANOVA by hand: grand mean 67; SS_runtime = 2*3*(10^2 + 10^2)
     * = 1200; config means 72, 62: SS_config = 6*(5^2 + 5^2) = 300;
     * additive cells: SS_interaction = 0; SSE = 4 cells * 8 = 32 on 8 df,
     * MS_E = 4: F = 300 and 75. EMMs 77 and 57. */
    HAS(md, "12 runs, 2 runtimes × 2 configs, classical (balanced) sums of squares.");
    HAS(md, "| runtime | 1200 | 1 | 1200 | 300.0000 |");
    HAS(md, "| config | 300 | 1 | 300 | 75.0000 |");
    HAS(md, "| error | 32 | 8 | 4 | n/a | n/a |");
    HAS(md, "fast 77 [");
    free(md);
    md = render(&ds, &a, &op, pb_report_order_outliers);
    /* fast/c1 walls 30, 10.1, 10.2: run 1 - mean(rest) = 30 - 10.15 =
     * +19.850 s; Q1 = 10.15, Q3 = 20.1 (type 7). */
    HAS(md, "| fast | c1 | 3 | ");
    HAS(md, "+19.850");
    HAS(md, "Run 1 is slower than the mean of the later runs in 1 of 4 groups");
    free(md);
    pb_analysis_free(&a);
    /* --drop-first 1: said, and 4 runs fewer. */
    ao.drop_first = 1;
    assert_int_equal(pb_analysis_build_opts(&ds, &ao, &a), 0);
    assert_int_equal(a.n_dropped, 4);
    md = render(&ds, &a, &op, pb_report_order_outliers);
    HAS(md, "**`--drop-first 1`**: the first 1 run of every runtime × config group was "
            "dropped before every statistic in this report (4 runs in all).");
    free(md);
    pb_analysis_free(&a);
    tr_dataset_free(&ds);
}

int main(void)
{
    pb_stats_init();
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sections)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
