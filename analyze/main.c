/* analyze: raw benchmark runs -> Markdown report on stdout.
 * Options and exit codes: analyze --help, analyze/README.md. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pb_charts.h"
#include "pb_cli.h"
#include "pb_csv.h"
#include "pb_fs.h"
#include "pb_json_out.h"
#include "pb_load.h"
#include "pb_report.h"
#include "pb_result.h"
#include "pb_stats.h"
#include "pb_text.h"

enum { EXIT_REPORT = 0, EXIT_NOTHING = 1, EXIT_USAGE = 2, EXIT_OUTPUT = 3 };

static const char USAGE[] =
"usage: analyze [options] [LABEL=]DIR|FILE... > report.md\n"
"\n"
"Reads benchmark runs (parbench traces, TR115 Rust/Python metrics.json) found\n"
"at any depth under each DIR, and writes the report's front page (the answer,\n"
"warnings, main comparisons) on stdout (or -o FILE) and the full report\n"
"beside it (-o FILE: FILE-full.md; on stdout only with --full).\n"
"Progress, warnings and errors go to stderr.\n"
"\n"
"Inputs may be labelled to compare sweeps: analyze old=DIR1 new=DIR2 keeps\n"
"their runtimes apart as old/uv and new/uv (--baseline old/uv). Unlabelled\n"
"inputs sharing a runtime name are kept apart by their paths.\n"
"\n"
"options:\n"
"  --ref NAME=VALUE     reference efficiency in percent; adds a \"vs NAME (pp)\"\n"
"                       column (repeatable, e.g. --ref TR114=95.7)\n"
"  --baseline RUNTIME   also compare every runtime against RUNTIME (a name\n"
"                       the data does not have is a usage error)\n"
"  --merge              pool runs of different inputs that share a runtime\n"
"                       name instead of keeping them apart\n"
"  -o, --output FILE    write the front page to FILE (atomically) instead of\n"
"                       stdout, and the full report to FILE-full.md beside it\n"
"                       (report.md -> report-full.md); chart links are then\n"
"                       relative to FILE's folder (on stdout: relative to the\n"
"                       current directory)\n"
"  --full FILE          write the full report (all-pairs tests, ANOVA,\n"
"                       per-config tables, the original study's tables, data\n"
"                       quality, definitions) to FILE\n"
"  --json FILE          also write every statistic, at full precision, as JSON\n"
"                       (schema parbench-analysis v1, analyze/README.md)\n"
"  --group SPEC         directory levels naming runtime and config, counted up\n"
"                       from the file (1 = its directory), e.g.\n"
"                       --group runtime=3,config=2; overrides file metadata.\n"
"                       Default: metadata, else config = the directory holding\n"
"                       the run_N directories and runtime = its parent.\n"
"  --csv DIR            also write DIR/runs.csv, groups.csv, groups_long.csv,\n"
"                       runtimes.csv, requests.csv, comparisons.csv\n"
"  --charts DIR         write charts into DIR and link them from the report\n"
"  --sequential-ref RUNTIME  a runtime that runs the agents one after another\n"
"                       (e.g. serial): adds ref_speedup and ref_efficiency\n"
"                       (ratio of mean walls, Fieller 95% CI), is the\n"
"                       comparisons' baseline unless --baseline is given,\n"
"                       and is the answer's reference only for runs without\n"
"                       solo phases (solo phases give a paired speedup per\n"
"                       run). A name the data does not have is a usage error\n"
"  --drop-first N       drop the first N runs (by run index) of every runtime x\n"
"                       config group before any statistic (warm-up runs); the\n"
"                       report says how many were dropped (default 0)\n"
"  --knee PCT           efficiency threshold of the scaling section's knee:\n"
"                       the largest agent count that keeps efficiency >= PCT\n"
"                       (default 90)\n"
"  --max-file-mb N      refuse files larger than N MiB (default 32)\n"
"  -j, --jobs N         threads that parse files, 1..8 (default: one per CPU\n"
"                       this process may use, at most 8); the output is the\n"
"                       same for every N\n"
"  -q, --quiet          no per-file warnings on stderr\n"
"  --timings            say on stderr how long loading, statistics and the\n"
"                       outputs took (milliseconds)\n"
"  -h, --help           this help\n"
"  -V, --version        version\n"
"\n"
"--seed and --bootstrap were removed: no bootstrap interval reached the\n"
"coverage a 95% interval needs (tests/analyze/test_coverage.c), so nothing is\n"
"resampled; giving either is a usage error.\n"
"\n"
"exit status: 0 report written; 1 nothing could be loaded or no run is valid\n"
"(a report saying why is still written); 2 usage error (unknown --baseline or\n"
"--sequential-ref, and --seed or --bootstrap, included); 3 the report,\n"
"charts, CSV or JSON could not be written.\n";

/* "runtime=3,config=2" (either part may be omitted). */
static int parse_group(char *spec, pb_load_opts *lo)
{
    for (char *tok = strtok(spec, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        long long v;
        if (!eq || pb_cli_integer(eq + 1, 0, 64, &v) || v == 0)
            return -1;
        *eq = '\0';
        if (strcmp(tok, "runtime") == 0)
            lo->runtime_level = (int)v;
        else if (strcmp(tok, "config") == 0)
            lo->config_level = (int)v;
        else
            return -1;
    }
    return 0;
}

/* Nothing loaded: say what was there instead, so the next step is clear. */
static void explain_nothing(const pb_dataset *ds)
{
    fprintf(stderr, "analyze: no run could be loaded: ");
    if (ds->files_seen == 0)
        fprintf(stderr, "no .json file was found under the given paths");
    else
        fprintf(stderr, "%zu files examined: %zu manifest%s, %zu summar%s, %zu skipped%s",
                ds->files_seen, ds->files_manifest, ds->files_manifest == 1 ? "" : "s",
                ds->files_duplicate + ds->files_aggregate,
                ds->files_duplicate + ds->files_aggregate == 1 ? "y" : "ies", ds->n_skips,
                ds->n_skips ? " (reasons above)" : "");
    if (ds->files_hidden)
        fprintf(stderr, "; %zu hidden entries not read (e.g. %s)", ds->files_hidden,
                ds->hidden_first);
    fprintf(stderr, ".\n  Runs are the files DIR/<runtime>/<config>/run_<k>.json that collect "
            "writes (a manifest only describes the sweep); give that DIR.\n");
}

/* Monotonic milliseconds, for --timings. */
static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Writes one Markdown document to path (atomically), or stdout when path
 * is NULL. Returns 0, -1 after saying what failed. */
static int write_report(const char *path, const pb_report_opts *ro,
                        int (*render)(FILE *, const pb_report_opts *))
{
    char *md = NULL;
    size_t len = 0;
    int rc = 0;
    FILE *f = path ? open_memstream(&md, &len) : stdout;
    if (!f || render(f, ro) != 0 || fflush(f) != 0) {
        pb_cli_error("cannot write the report to %s: %s", path ? "memory" : "stdout",
                     strerror(errno));
        rc = -1;
    }
    if (path && f) {
        char err[600];
        fclose(f);
        if (rc == 0 && pb_fs_write_derived(path, md, len, err, sizeof err)) {
            pb_cli_error("%s: %s; check the folder exists and is writable", path, err);
            rc = -1;
        }
    }
    free(md);
    return rc;
}

int main(int argc, char **argv)
{
    enum { O_REF = 256, O_BASE, O_SEED, O_BOOT, O_GROUP, O_CSV, O_CHARTS,
           O_SEQ, O_MAXMB, O_DROP, O_MERGE, O_JSON, O_KNEE, O_FULL, O_TIMINGS };
    static const struct option longopts[] = {
        {"ref", required_argument, NULL, O_REF},
        {"baseline", required_argument, NULL, O_BASE},
        {"seed", required_argument, NULL, O_SEED},
        {"bootstrap", required_argument, NULL, O_BOOT},
        {"group", required_argument, NULL, O_GROUP},
        {"csv", required_argument, NULL, O_CSV},
        {"charts", required_argument, NULL, O_CHARTS},
        {"sequential-ref", required_argument, NULL, O_SEQ},
        {"max-file-mb", required_argument, NULL, O_MAXMB},
        {"jobs", required_argument, NULL, 'j'},
        {"drop-first", required_argument, NULL, O_DROP},
        {"merge", no_argument, NULL, O_MERGE},
        {"json", required_argument, NULL, O_JSON},
        {"output", required_argument, NULL, 'o'},
        {"full", required_argument, NULL, O_FULL},
        {"timings", no_argument, NULL, O_TIMINGS},
        {"knee", required_argument, NULL, O_KNEE},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    pb_cli_init("analyze");
    pb_report_opts ro;
    memset(&ro, 0, sizeof ro);
    pb_result_opts so = {0};
    const char *csv_dir = NULL, *full_path = NULL;
    pb_load_opts lo;
    pb_load_opts_init(&lo);
    int c, merge = 0, timings = 0;
    double t_start = now_ms(), t_load = 0, t_stats = 0, t_out = 0;
    const char *out_path = NULL, *json_path = NULL;
    long long v;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":qhVo:j:", longopts, NULL)) != -1) {
        switch (c) {
        case O_REF: {
            char *eq = strchr(optarg, '=');
            char *end;
            if (!eq || eq == optarg)
                return pb_cli_usage_error("--ref wants NAME=VALUE, got '%s'", optarg);
            double val = strtod(eq + 1, &end);
            if (end == eq + 1 || *end || val != val)
                return pb_cli_usage_error("--ref value is not a number in '%s'", optarg);
            if (ro.n_refs == PB_REPORT_MAX_REFS)
                return pb_cli_usage_error("too many --ref (max 16) at '%s'", optarg);
            *eq = '\0';
            ro.refs[ro.n_refs].name = optarg;
            ro.refs[ro.n_refs++].value = val;
            break;
        }
        case O_BASE: so.baseline = optarg; break;
        case O_SEED:
        case O_BOOT:
            /* Still recognised, so that a script written for an older
             * analyze learns why instead of reading "unknown option". */
            return pb_cli_usage_error("%s was removed: analyze prints no bootstrap interval "
                                      "(none reached the coverage a 95%% interval needs in "
                                      "tests/analyze/test_coverage.c; t and Fieller intervals "
                                      "did), so there is nothing to resample or seed; drop "
                                      "the option", c == O_SEED ? "--seed" : "--bootstrap");
        case O_GROUP:
            if (parse_group(optarg, &lo))
                return pb_cli_usage_error("--group wants runtime=LEVEL,config=LEVEL "
                                   "with LEVEL 1..64, got '%s'", optarg);
            break;
        case O_CSV: csv_dir = optarg; break;
        case O_FULL: full_path = optarg; break;
        case O_TIMINGS: timings = 1; break;
        case O_CHARTS: ro.charts_dir = optarg; break;
        case O_SEQ: so.sequential_ref = optarg; break;
        case O_KNEE: {
            double k;
            if (pb_cli_number(optarg, 0, 100, &k) || k == 0)
                return pb_cli_usage_error("--knee wants a percentage in (0, 100], got '%s'", optarg);
            so.knee_pct = k;
            break;
        }
        case O_MAXMB:
            if (pb_cli_integer(optarg, 0, 1u << 20, &v) || v == 0)
                return pb_cli_usage_error("--max-file-mb wants 1..1048576, got '%s'", optarg);
            lo.max_file_bytes = (size_t)v << 20;
            break;
        case 'j':
            if (pb_cli_integer(optarg, 1, PB_LOAD_MAX_JOBS, &v))
                return pb_cli_usage_error("--jobs wants 1..%d threads, got '%s'",
                                          PB_LOAD_MAX_JOBS, optarg);
            lo.jobs = (int)v;
            break;
        case O_DROP:
            if (pb_cli_integer(optarg, 0, 1000000, &v))
                return pb_cli_usage_error("--drop-first wants 0..1000000 runs, got '%s'", optarg);
            so.drop_first = (size_t)v;
            break;
        case O_MERGE: merge = 1; break;
        case O_JSON: json_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 'q': lo.quiet = 1; break;
        case 'h': fputs(USAGE, stdout); return EXIT_REPORT;
        case 'V': printf("analyze (parbench) %s\n", PARBENCH_VERSION); return EXIT_REPORT;
        case ':':
            return pb_cli_usage_error("option '%s' needs a value", argv[optind - 1]);
        default: {
            /* Name the nearest option ("--drop-frist" is "--drop-first"),
             * never a removed one. */
            const char *names[sizeof longopts / sizeof longopts[0]];
            size_t n = 0;
            for (const struct option *o = longopts; o->name; o++)
                if (o->val != O_SEED && o->val != O_BOOT)
                    names[n++] = o->name;
            char msg[300];
            return pb_cli_usage_error("%s", pb_cli_unknown_option(argv[optind - 1], names, n,
                                                                  msg, sizeof msg));
        }
        }
    }
    if (optind >= argc)
        return pb_cli_usage_error("no DIR or FILE given");

    /* LABEL=PATH, unless the whole argument is an existing path (a
     * directory may contain '='); a label has no '/'. */
    int n_in = argc - optind;
    pb_load_input *in = calloc((size_t)n_in, sizeof *in);
    char **labels = calloc((size_t)n_in, sizeof *labels);
    if (!in || !labels) {
        pb_cli_error("out of memory for %d inputs; free memory and run again", n_in);
        free(in), free(labels);
        return EXIT_OUTPUT;
    }
    for (int i = 0; i < n_in; i++) {
        const char *arg = argv[optind + i];
        const char *eq = strchr(arg, '=');
        struct stat st;
        in[i].path = arg;
        if (eq && eq > arg && eq[1] && memchr(arg, '/', (size_t)(eq - arg)) == NULL &&
            stat(arg, &st) != 0) {
            labels[i] = strndup(arg, (size_t)(eq - arg));
            in[i].label = labels[i];
            in[i].path = eq + 1;
        }
    }
    for (int i = 0; i < n_in; i++)
        for (int j = 0; j < i; j++)
            if (in[i].label && in[j].label && strcmp(in[i].label, in[j].label) == 0) {
                pb_cli_usage_error("label '%s' is given to two inputs (%s and %s); labels "
                                   "keep sweeps apart, so each must be unique",
                                   in[i].label, in[j].path, in[i].path);
                for (int k = 0; k < n_in; k++)
                    free(labels[k]);
                free(in), free(labels);
                return EXIT_USAGE;
            }

    pb_stats_init();
    pb_dataset ds = {0};
    ro.inputs = argv + optind;
    ro.n_inputs = n_in;
    t_load = now_ms();
    pb_load_inputs(&ds, in, n_in, &lo);
    t_load = now_ms() - t_load;
    int lrc = pb_load_label_inputs(&ds, in, n_in, merge);
    for (int k = 0; k < n_in; k++)
        free(labels[k]);
    free(in), free(labels);
    if (lrc != 0) {
        pb_cli_error("out of memory while labelling the inputs' runs; free memory and run "
                     "again");
        pb_dataset_free(&ds);
        return EXIT_OUTPUT;
    }
    if (!lo.quiet) {
        fprintf(stderr, "analyze: %zu runs loaded (%zu valid), %zu files skipped\n",
                ds.n_runs, pb_dataset_n_valid(&ds), ds.n_skips);
        if (ds.files_hidden)
            fprintf(stderr, "analyze: %zu hidden entries not read (names starting with '.', "
                    "e.g. %s): the collector's temp files and preserved failed runs are "
                    "hidden on purpose; rename anything else to load it\n",
                    ds.files_hidden, ds.hidden_first);
    }

    int rc = pb_dataset_n_valid(&ds) == 0 ? EXIT_NOTHING : EXIT_REPORT;
    /* Everything computed once: the front page, the full report, the
     * charts, the CSV and the JSON only render it. */
    pb_result res;
    t_stats = now_ms();
    int built = pb_result_build(&ds, &so, &res);
    t_stats = now_ms() - t_stats;
    if (built != 0) {
        pb_cli_error("out of memory while computing statistics for %zu runs; free memory and "
                     "run again", ds.n_runs);
        pb_dataset_free(&ds);
        return EXIT_OUTPUT;
    }
    /* A misspelt runtime used to give a report without its table and no
     * word: it is a usage error naming what the data has. */
    const char *bad = NULL, *badopt = NULL;
    if (so.baseline && res.an.baseline < 0)
        bad = so.baseline, badopt = "--baseline";
    else if (so.sequential_ref && res.an.seqref < 0)
        bad = so.sequential_ref, badopt = "--sequential-ref";
    if (bad && ds.n_runs > 0) {
        fprintf(stderr, "analyze: %s '%s' is not a runtime with valid runs in "
                "this data; runtimes found:", badopt, bad);
        for (size_t i = 0; i < res.an.n_rts; i++)
            fprintf(stderr, "%s %s", i ? "," : "", res.an.rts[i].runtime);
        fprintf(stderr, "%s\nTry '%s --help'.\n", res.an.n_rts ? "" : " none", pb_cli_prog());
        pb_result_free(&res);
        pb_dataset_free(&ds);
        return EXIT_USAGE;
    }
    ro.res = &res;
    t_out = now_ms();
    char *link = NULL, *full_auto = NULL, *full_link = NULL;
    if (out_path && ro.charts_dir) {
        link = pb_report_rel_dir(out_path, ro.charts_dir);
        ro.charts_link = link;
    }
    /* The full report: --full FILE, else beside -o FILE as
     * <stem>-full.md (report.md -> report-full.md); on stdout without
     * --full it is not written (the front page says how to get it). */
    if (!full_path && out_path) {
        size_t l = strlen(out_path);
        size_t stem = l > 3 && strcmp(out_path + l - 3, ".md") == 0 ? l - 3 : l;
        full_auto = malloc(stem + 9);
        if (full_auto)
            snprintf(full_auto, stem + 9, "%.*s-full.md", (int)stem, out_path);
        full_path = full_auto;
    }
    if (full_path) {
        /* The front page links it relative to its own folder. */
        const char *base = strrchr(full_path, '/');
        char *dir = base ? strndup(full_path, (size_t)(base - full_path)) : strdup(".");
        char *rel = out_path && dir ? pb_report_rel_dir(out_path, dir) : NULL;
        const char *d = out_path ? rel : dir;
        base = base ? base + 1 : full_path;
        if (d && (full_link = malloc(strlen(d) + strlen(base) + 2)) != NULL)
            sprintf(full_link, "%s/%s", d, base);
        if (full_link && strncmp(full_link, "./", 2) == 0)
            memmove(full_link, full_link + 2, strlen(full_link + 2) + 1);
        free(dir);
        free(rel);
        ro.full_name = full_link;
    }
    /* Charts first: the reports link what was actually drawn. */
    char *charts_md = NULL;
    size_t charts_len = 0;
    if (ro.charts_dir && res.an.n_rts > 0) {
        FILE *cf = open_memstream(&charts_md, &charts_len);
        if (!cf || pb_charts_write(&ro, cf, &ro.speedup_chart) != 0) {
            pb_cli_error("--charts %s: some charts could not be written or rendered "
                         "(reasons above)", ro.charts_dir);
            rc = EXIT_OUTPUT;
        }
        if (cf)
            fclose(cf);
        ro.charts_md = charts_md;
    }
    if (write_report(out_path, &ro, pb_report_front) != 0)
        rc = EXIT_OUTPUT;
    if (full_path && write_report(full_path, &ro, pb_report_full) != 0)
        rc = EXIT_OUTPUT;
    free(charts_md);
    free(link);
    free(full_link);
    free(full_auto);
    if (csv_dir && ds.n_runs > 0) {
        char err[600];
        if (pb_csv_write(csv_dir, &res, err, sizeof err)) {
            pb_cli_error("--csv %s: %s; check the directory is writable", csv_dir, err);
            rc = EXIT_OUTPUT;
        }
    }
    if (json_path) {
        char err[600];
        if (pb_json_out_write(json_path, &ro, err, sizeof err)) {
            pb_cli_error("--json %s: %s", json_path, err);
            rc = EXIT_OUTPUT;
        }
    }
    if (timings) {
        int threads = pb_load_threads(&lo);
        fprintf(stderr, "analyze: timings (ms): load %.2f (%d thread%s), statistics %.2f, "
                "outputs %.2f, total %.2f\n", t_load, threads, threads == 1 ? "" : "s",
                t_stats, now_ms() - t_out, now_ms() - t_start);
    }
    if (ds.n_runs == 0)
        explain_nothing(&ds);
    else if (rc == EXIT_NOTHING)
        pb_cli_error("none of the %zu runs loaded is valid (reasons in the full "
                     "report's Data quality section)", ds.n_runs);
    pb_result_free(&res);
    pb_dataset_free(&ds);
    return rc;
}
