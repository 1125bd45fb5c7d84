/* Issue 12 units: workflow steps in plans, {{previous}} filling and its
 * UTF-8 cap, agent-count lists, arrival patterns, the --target-ci interval
 * and the per-step seeds. Expected values are worked out in the comments. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_text.h"
#include "plan.h"
#include "precision.h"
#include "transfer.h"
#include "workflow.h"

static int load(pb_plan *p, const char *json, const pb_overrides *o, char *err, size_t n)
{
    return pb_plan_from_json(p, json, strlen(json), "t.json", NULL, o, err, n);
}

static const char WF[] =
    "{\"agents\": [{\"id\": \"a\", \"endpoint\": \"http://h:1\", \"options\": {\"num_ctx\": 512, \"top_k\": 5},"
    " \"steps\": ["
    "  {\"llm\": {\"prompt\": \"First.\", \"options\": {\"num_predict\": 400}}},"
    "  {\"work\": {\"seconds\": 0.2}},"
    "  {\"work\": {\"seconds\": {\"dist\": \"lognormal\", \"mean\": 1.5, \"sd\": 0.5}, \"cpu\": true}},"
    "  {\"llm\": {\"prompt\": \"Report: {{previous}}\", \"api\": \"chat\", \"options\": {\"num_predict\": 300, \"top_k\": 9}}}]}],"
    " \"configs\": [{\"name\": \"c\", \"options\": {\"num_ctx\": 1024}}]}";

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return v ? v->valuedouble : -1;
}

static void test_steps_parsed_and_merged(void **st)
{
    (void)st;
    pb_plan p;
    char err[512];
    assert_int_equal(load(&p, WF, NULL, err, sizeof err), 0);
    const pb_agent_spec *a = &p.configs[0].agents[0];
    assert_int_equal(a->n_steps, 4);
    assert_int_equal(a->steps[0].kind, PB_STEP_LLM);
    assert_int_equal(a->steps[1].kind, PB_STEP_WORK);
    assert_true(a->steps[1].seconds == 0.2 && a->steps[1].sd == 0 && !a->steps[1].cpu);
    assert_true(a->steps[2].seconds == 1.5 && a->steps[2].sd == 0.5 && a->steps[2].cpu);
    /* agent options, then the step's, then the config's: num_ctx 1024 from
     * the config beats the agent's 512; top_k 9 from step 3 beats 5. */
    assert_true(num(a->steps[0].options, "num_ctx") == 1024);
    assert_true(num(a->steps[0].options, "num_predict") == 400);
    assert_true(num(a->steps[0].options, "top_k") == 5);
    assert_true(num(a->steps[3].options, "top_k") == 9);
    assert_true(num(a->steps[3].options, "num_predict") == 300);
    assert_string_equal(a->steps[0].api, "generate");
    assert_string_equal(a->steps[3].api, "chat");
    /* What a warm-up sends: the first llm step. */
    assert_string_equal(a->prompt, "First.");
    assert_true(num(a->options, "num_predict") == 400);
    /* Steps are part of the run key: another step changes it. */
    char k1[32], k2[32];
    pb_plan_run_key(&p, &p.runtimes[0], &p.configs[0], 1, k1, sizeof k1);
    pb_plan_free(&p);
    char *alt = strdup(WF);
    memcpy(strstr(alt, "0.2}"), "0.3}", 4);
    assert_int_equal(load(&p, alt, NULL, err, sizeof err), 0);
    pb_plan_run_key(&p, &p.runtimes[0], &p.configs[0], 1, k2, sizeof k2);
    assert_string_not_equal(k1, k2);
    pb_plan_free(&p);
    free(alt);
}

static void test_steps_errors(void **st)
{
    (void)st;
    static const struct { const char *steps, *want; } bad[] = {
        {"[]", "1 to 64 steps"},
        {"[{\"work\": {\"seconds\": 1}}]", "at least one llm step"},
        {"[{\"llm\": {\"prompt\": \"x {{previous}}\"}}]", "no previous response"},
        {"[{\"llm\": {}}]", "exactly one of \"prompt\" and \"prompt_file\""},
        {"[{\"llm\": {\"prompt\": \"x\", \"temperature\": 1}}]", "unknown key \"temperature\""},
        {"[{\"llm\": {\"prompt\": \"x\"}}, {\"work\": {}}]", "\"seconds\" is required"},
        {"[{\"llm\": {\"prompt\": \"x\"}}, {\"work\": {\"seconds\": -1}}]", "[0, 3600]"},
        {"[{\"llm\": {\"prompt\": \"x\"}}, {\"work\": {\"seconds\": {\"dist\": \"normal\", \"mean\": 1, \"sd\": 1}}}]", "lognormal"},
        {"[{\"llm\": {\"prompt\": \"x\"}, \"work\": {\"seconds\": 1}}]", "one key"},
        {"[{\"sleep\": 1}]", "\"llm\" or \"work\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char json[1024], err[512];
        snprintf(json, sizeof json, "{\"agents\": [{\"id\": \"a\", \"endpoint\": \"http://h:1\", \"steps\": %s}]}",
                 bad[i].steps);
        pb_plan p;
        assert_int_equal(load(&p, json, NULL, err, sizeof err), -1);
        if (!strstr(err, bad[i].want))
            fail_msg("steps %s: error \"%s\" lacks \"%s\"", bad[i].steps, err, bad[i].want);
    }
    /* steps and prompt together */
    pb_plan p;
    char err[512];
    assert_int_equal(load(&p, "{\"agents\": [{\"id\": \"a\", \"endpoint\": \"http://h:1\", \"prompt\": \"p\","
                              " \"steps\": [{\"llm\": {\"prompt\": \"x\"}}]}]}", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "exactly one of"));
}

/* A step's api is a dialect like an agent's: aliases resolved, unknown
 * names refused, and --api sets every step's. */
static void test_step_api(void **st)
{
    (void)st;
    pb_plan p;
    char err[512];
    const char *json = "{\"agents\": [{\"id\": \"a\", \"endpoint\": \"http://h:1\", \"steps\": ["
                       "{\"llm\": {\"prompt\": \"x\", \"api\": \"openai\"}},"
                       "{\"llm\": {\"prompt\": \"y\"}}]}]}";
    assert_int_equal(load(&p, json, NULL, err, sizeof err), 0);
    assert_string_equal(p.configs[0].agents[0].steps[0].api, "openai-chat");
    assert_string_equal(p.configs[0].agents[0].steps[1].api, "generate");
    pb_plan_free(&p);
    pb_overrides o;
    pb_overrides_init(&o);
    o.api = "chat";
    assert_int_equal(load(&p, json, &o, err, sizeof err), 0);
    assert_string_equal(p.configs[0].agents[0].steps[0].api, "chat");
    assert_string_equal(p.configs[0].agents[0].steps[1].api, "chat");
    pb_plan_free(&p);
    assert_int_equal(load(&p, "{\"agents\": [{\"id\": \"a\", \"endpoint\": \"http://h:1\", \"steps\": ["
                              "{\"llm\": {\"prompt\": \"x\", \"api\": \"nope\"}}]}]}", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"nope\" is not one of"));
}

static void test_fill_and_cap(void **st)
{
    (void)st;
    char *s = pb_steps_fill_prompt("A {{previous}} B {{previous}}", "xy", 2);
    assert_string_equal(s, "A xy B xy");
    free(s);
    s = pb_steps_fill_prompt("none", "xy", 2);
    assert_string_equal(s, "none");
    free(s);
    /* "aé€" = 61 | c3 a9 | e2 82 ac: 6 bytes. Cuts: 6 -> 6, 5 and 4 fall
     * inside the euro sign -> 3, 2 inside é -> 1. */
    const char *u = "a\xc3\xa9\xe2\x82\xac";
    assert_int_equal(pb_text_utf8_cap(u, 6, 6), 6);
    assert_int_equal(pb_text_utf8_cap(u, 6, 5), 3);
    assert_int_equal(pb_text_utf8_cap(u, 6, 4), 3);
    assert_int_equal(pb_text_utf8_cap(u, 6, 3), 3);
    assert_int_equal(pb_text_utf8_cap(u, 6, 2), 1);
    assert_int_equal(pb_text_utf8_cap(u, 6, 1), 1);
}

static void test_counts(void **st)
{
    (void)st;
    int c[PB_COUNTS_MAX], n;
    char err[256];
    assert_int_equal(pb_counts_parse("8,1,4,2", c, &n, 4096, err, sizeof err), 0);
    assert_int_equal(n, 4);
    assert_true(c[0] == 1 && c[1] == 2 && c[2] == 4 && c[3] == 8);
    const char *bad[] = {"", "0", "1,,2", "1,2,", "1,x", "2,2", "5000", "-1", "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (pb_counts_parse(bad[i], c, &n, 4096, err, sizeof err) == 0)
            fail_msg("--agents \"%s\" accepted", bad[i]);

    /* A count list in the plan: one config per N, named and recorded. */
    pb_plan p;
    const char *json = "{\"agents\": [{\"id\": \"w\", \"count\": [4, 1, 2], \"endpoint\": \"http://h:1\", \"prompt\": \"p\"},"
                       " {\"id\": \"s\", \"endpoint\": \"http://h:2\", \"prompt\": \"q\"}],"
                       " \"configs\": [{\"name\": \"x\"}, {\"name\": \"y\"}]}";
    assert_int_equal(load(&p, json, NULL, err, sizeof err), 0);
    assert_int_equal(p.n_counts, 3);
    assert_int_equal(p.n_configs, 6);
    assert_string_equal(p.configs[0].name, "x-n1");
    assert_string_equal(p.configs[1].name, "y-n1");
    assert_string_equal(p.configs[5].name, "y-n4");
    assert_string_equal(p.configs[5].base_name, "y");
    assert_int_equal(p.configs[5].sweep_n, 4);
    assert_int_equal(p.configs[5].n_agents, 5); /* w-1..w-4 and s */
    assert_string_equal(p.configs[5].agents[3].id, "w-4");
    assert_int_equal(p.configs[0].n_agents, 2);
    assert_string_equal(p.configs[0].agents[0].id, "w");
    pb_plan_free(&p);

    /* --agents overrides it; --config filters by the plan's names. */
    pb_overrides o;
    pb_overrides_init(&o);
    o.agents = "2,3";
    o.configs = "y";
    assert_int_equal(load(&p, json, &o, err, sizeof err), 0);
    assert_int_equal(p.n_configs, 2);
    assert_string_equal(p.configs[0].name, "y-n2");
    assert_string_equal(p.configs[1].name, "y-n3");
    pb_plan_free(&p);

    /* --agents on a plan with one plain agent replicates that agent. */
    pb_overrides_init(&o);
    o.agents = "3";
    assert_int_equal(load(&p, "{\"agents\": [{\"id\": \"a\", \"endpoint\": \"http://h:1\", \"prompt\": \"p\"}]}",
                          &o, err, sizeof err), 0);
    assert_int_equal(p.n_configs, 1);
    assert_string_equal(p.configs[0].name, "default"); /* one count: no suffix */
    assert_int_equal(p.configs[0].n_agents, 3);
    pb_plan_free(&p);
    /* ... and is an error when it cannot tell which agent. */
    o.agents = "1,2";
    assert_int_equal(load(&p, "{\"agents\": [{\"id\": \"a\", \"endpoint\": \"http://h:1\", \"prompt\": \"p\"},"
                              " {\"id\": \"b\", \"endpoint\": \"http://h:1\", \"prompt\": \"p\"}]}",
                          &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "mark the one to replicate"));
    assert_int_equal(load(&p, "{\"agents\": [{\"id\": \"a\", \"count\": [1, 1], \"endpoint\": \"http://h:1\", \"prompt\": \"p\"}]}",
                          NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "listed twice"));
}

static void test_arrival_and_target(void **st)
{
    (void)st;
    pb_plan p;
    char err[512];
    const char *base = "{\"agents\": [{\"id\": \"a\", \"endpoint\": \"http://h:1\", \"prompt\": \"p\"}], %s}";
    char json[512];
    snprintf(json, sizeof json, base, "\"arrival\": {\"stagger_s\": 0.5}");
    assert_int_equal(load(&p, json, NULL, err, sizeof err), 0);
    assert_int_equal(p.arrival, PB_ARRIVAL_STAGGER);
    assert_true(p.arrival_param == 0.5);
    pb_plan_free(&p);
    snprintf(json, sizeof json, base, "\"arrival\": {\"rate_per_s\": 2}");
    assert_int_equal(load(&p, json, NULL, err, sizeof err), 0);
    assert_int_equal(p.arrival, PB_ARRIVAL_POISSON);
    pb_plan_free(&p);
    const char *bad[] = {"\"arrival\": {\"rate_per_s\": 0}", "\"arrival\": {\"stagger_s\": 1, \"rate_per_s\": 1}",
                         "\"arrival\": 3", "\"target_ci_pct\": 2, \"solo\": false",
                         "\"target_ci_pct\": 2, \"runs\": 5, \"max_runs\": 4",
                         "\"target_ci_pct\": 2, \"runs\": 3"};   /* pilot < 5 */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(json, sizeof json, base, bad[i]);
        if (load(&p, json, NULL, err, sizeof err) == 0)
            fail_msg("accepted: %s", bad[i]);
    }
    snprintf(json, sizeof json, base, "\"target_ci_pct\": 2, \"runs\": 5");
    assert_int_equal(load(&p, json, NULL, err, sizeof err), 0);
    assert_int_equal(p.max_runs, 20); /* default max(20, runs) */
    pb_plan_free(&p);
}

static void test_precision(void **st)
{
    (void)st;
    /* x = 0.9, 1.0, 1.1: mean 1, SD 0.1, t(0.975, 2) = 4.302653 ->
     * half-width 4.302653 * 0.1 / sqrt(3) = 0.248414 -> 24.8414%. */
    double x[] = {0.9, 1.0, 1.1};
    assert_true(fabs(pb_precision_halfwidth_pct(x, 3, 3, 30, NULL) - 24.8414) < 1e-3);
    assert_true(isinf(pb_precision_halfwidth_pct(x, 1, 3, 30, NULL)));
    double same[] = {2, 2, 2};
    assert_true(pb_precision_halfwidth_pct(same, 3, 3, 30, NULL) == 0);
    /* Stein: pilot SD 0.1, t(0.975, 2)^2 = 18.5128, d = 10% of 1 = 0.1 ->
     * N = ceil(18.5128 * 0.01 / 0.01) = 19 runs; capped at max_runs;
     * never below the pilot. Final half-width with N = 4 runs: the larger
     * of Stein's, t(0.975, 2) * 0.1 / 2 = 0.21513, and the t interval of
     * all four (squares about 1.1: .04 + .01 + 0 + .09 = .14, SD
     * sqrt(.14/3) = 0.21602, t(0.975, 3) = 3.182446: 0.34374), over the
     * mean 1.1. */
    assert_int_equal(pb_stein_total(x, 3, 3, 10, 20), 19);
    assert_int_equal(pb_stein_total(x, 3, 3, 10, 12), 12);
    assert_int_equal(pb_stein_total(x, 3, 3, 50, 20), 3);
    assert_int_equal(pb_stein_total(same, 3, 3, 10, 20), 3);
    int met;
    double four[] = {0.9, 1.0, 1.1, 1.4};
    assert_true(fabs(pb_precision_halfwidth_pct(four, 3, 4, 30, &met) -
                     3.182446305284263 * sqrt(0.14 / 3) / 2 / 1.1 * 100) < 1e-9);
    assert_int_equal(met, 0);   /* 0.34374 > 30% of the pilot mean 1 */
    double five[] = {0.9, 1.0, 1.1, 1.0, 1.0};   /* SD sqrt(.02/4) < 0.1 */
    assert_true(fabs(pb_precision_halfwidth_pct(five, 3, 5, 30, &met) -
                     4.302652729749464 * 0.1 / sqrt(5) / 1.0 * 100) < 1e-9);
    assert_int_equal(met, 1);   /* 0.19242 <= 0.3 */
    /* A trace: solo spans 1 s and 2 s, concurrent 2 s -> speedup 1.5. */
    const char *t = "{\"run\": {\"valid\": true}, \"agents\": [{}, {}], \"phases\": ["
                    "{\"kind\": \"warmup\", \"start_ns\": 0, \"end_ns\": 5e9},"
                    "{\"kind\": \"solo\", \"start_ns\": 0, \"end_ns\": 1e9},"
                    "{\"kind\": \"solo\", \"start_ns\": 1e9, \"end_ns\": 3e9},"
                    "{\"kind\": \"concurrent\", \"start_ns\": 3e9, \"end_ns\": 5e9}]}";
    cJSON *j = cJSON_Parse(t);
    assert_true(fabs(pb_precision_speedup(j) - 1.5) < 1e-12);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(j, "run"), "valid", cJSON_CreateFalse());
    assert_true(isnan(pb_precision_speedup(j)));
    cJSON_Delete(j);
    /* An exec runtime (tests/fixtures/trace_exec/py): processes 0-2, 3-5,
     * 6-9 s; requests 1-1.5, 4-4.5, 7-7.6 and 7.2-7.8 (and /api/tags,
     * no dialect): on the wire 1.0 / 0.8 = 1.25, not 4 / 3 on processes. */
    const char *ex = "{\"run\": {\"valid\": true}, \"agents\": [{}, {}], \"phases\": ["
        "{\"kind\": \"solo\", \"start_ns\": 0, \"end_ns\": 2e9, \"process\": {},"
        " \"requests\": [{\"t_start_ns\": 1e9, \"t_end_ns\": 1.5e9}]},"
        "{\"kind\": \"solo\", \"start_ns\": 3e9, \"end_ns\": 5e9, \"process\": {},"
        " \"requests\": [{\"t_start_ns\": 4e9, \"t_end_ns\": 4.5e9}]},"
        "{\"kind\": \"concurrent\", \"start_ns\": 6e9, \"end_ns\": 9e9, \"process\": {},"
        " \"requests\": [{\"t_start_ns\": 6.5e9, \"t_end_ns\": 6.51e9, \"dialect\": null},"
        " {\"t_start_ns\": 7e9, \"t_end_ns\": 7.6e9}, {\"t_start_ns\": 7.2e9, \"t_end_ns\": 7.8e9}]}]}";
    j = cJSON_Parse(ex);
    assert_non_null(j);
    assert_true(fabs(pb_precision_speedup(j) - 1.25) < 1e-12);
    cJSON_Delete(j);
}

static void test_step_seeds(void **st)
{
    (void)st;
    assert_int_equal(pb_workflow_step_seed(-1, 3), -1);
    assert_int_equal(pb_workflow_step_seed(42, 0), 42);
    assert_int_equal(pb_workflow_step_seed(42, 2), 42 + 2 * 1000003);
    /* Wraps below 2^31 - 1: (2147483646 + 1000003) mod 2147483647 = 1000002. */
    assert_int_equal(pb_workflow_step_seed(2147483646L, 1), 1000002);
}

/* A transfer keeps at most keep_text bytes of the answer, in order, and
 * counts all of it: "Hel" + "lo" + " wörld" = 3 + 2 + 7 = 12 bytes (ö is 2),
 * kept 6. */
static void test_kept_text(void **st)
{
    (void)st;
    pb_agent_spec a = {.id = "a", .model = "m", .api = "generate", .prompt = "p"};
    a.options = cJSON_CreateObject();
    a.headers = cJSON_CreateObject();
    pb_transfer_opts o = {.url = "http://127.0.0.1:9", .request_id = "r", .timeout_s = 1,
                          .sample_seed = -1, .keep_text = 6};
    char err[256];
    pb_transfer *t = pb_transfer_new(&a, &o, 1000, err, sizeof err);
    assert_non_null(t);
    const char s[] =
        "{\"response\":\"Hel\",\"done\":false}\n"
        "{\"response\":\"lo\",\"done\":false}\n"
        "{\"response\":\" w\u00f6rld\",\"done\":false}\n"
        "{\"response\":\"\",\"done\":true,\"eval_count\":3}\n";
    assert_int_equal(pb_transfer_deliver(t, s, strlen(s), 2000), strlen(s));
    pb_transfer_finish(t, CURLE_OK, 3000);
    pb_transfer_settle(t);
    assert_true(t->ok);
    size_t kept;
    uint64_t total;
    const char *txt = pb_transfer_text(t, &kept, &total);
    assert_int_equal(kept, 6);
    assert_memory_equal(txt, "Hello ", 6);
    assert_int_equal(total, 12);
    pb_transfer_free(t);
    /* Without keep_text nothing is kept. */
    o.keep_text = 0;
    t = pb_transfer_new(&a, &o, 1000, err, sizeof err);
    assert_int_equal(pb_transfer_deliver(t, s, strlen(s), 2000), strlen(s));
    pb_transfer_finish(t, CURLE_OK, 3000);
    pb_transfer_settle(t);
    txt = pb_transfer_text(t, &kept, NULL);
    assert_int_equal(kept, 0);
    assert_string_equal(txt, "");
    pb_transfer_free(t);
    cJSON_Delete(a.options);
    cJSON_Delete(a.headers);
}

static void test_tr115_workflow_plan(void **st)
{
    (void)st;
    pb_plan p;
    char err[512];
    assert_int_equal(pb_plan_load(&p, "tr115-workflow", NULL, err, sizeof err), 0);
    assert_int_equal(p.n_configs, 6);
    const pb_agent_spec *a = &p.configs[2].agents[0];
    assert_int_equal(a->n_steps, 3);
    assert_int_equal(a->steps[0].kind, PB_STEP_WORK);
    assert_true(a->steps[0].seconds == 0.03 && a->steps[0].cpu);
    assert_int_equal(a->steps[1].kind, PB_STEP_LLM);
    assert_non_null(strstr(a->steps[1].prompt, "DataCollector-9000"));
    assert_non_null(strstr(a->steps[2].prompt, PB_PREVIOUS_MARK));
    /* The config's options reach both calls. */
    assert_true(num(a->steps[1].options, "num_ctx") == 512 && num(a->steps[2].options, "num_ctx") == 512);
    pb_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_parsed_and_merged),
        cmocka_unit_test(test_steps_errors),
        cmocka_unit_test(test_step_api),
        cmocka_unit_test(test_fill_and_cap),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_arrival_and_target),
        cmocka_unit_test(test_precision),
        cmocka_unit_test(test_step_seeds),
        cmocka_unit_test(test_tr115_workflow_plan),
        cmocka_unit_test(test_kept_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
