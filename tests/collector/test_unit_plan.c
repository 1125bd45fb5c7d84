/* plan: the built-in tr115 plan, JSON plans, overrides and run keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_fs.h"
#include "plan.h"

static double opt(const pb_agent_spec *a, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(a->options, k);
    return v ? v->valuedouble : -1;
}

static void test_tr115(void **st)
{
    (void)st;
    pb_plan p;
    char err[512];
    assert_int_equal(pb_plan_load(&p, "tr115", NULL, err, sizeof err), 0);
    assert_int_equal(p.n_configs, 6);
    assert_int_equal(p.runs, 5);
    assert_int_equal(p.n_runtimes, 3);
    assert_string_equal(p.runtimes[0].label, "uv");
    assert_string_equal(p.runtimes[2].label, "serial");
    assert_int_equal(p.n_endpoints, 2);
    assert_string_equal(p.endpoints[1], "http://127.0.0.1:11435");
    const pb_config *b = &p.configs[0];
    assert_string_equal(b->name, "baseline_vs_chimera_gpu80_ctx512");
    assert_int_equal(cJSON_GetArraySize(b->agents[0].options), 0);
    assert_true(opt(&b->agents[1], "num_gpu") == 80 && opt(&b->agents[1], "num_ctx") == 512);
    const pb_config *h = &p.configs[1];
    assert_string_equal(h->name, "chimera_hetero_gpu80-100_ctx512-1024");
    assert_true(opt(&h->agents[0], "num_ctx") == 512 && opt(&h->agents[1], "num_ctx") == 1024);
    assert_true(opt(&h->agents[1], "num_gpu") == 100 && opt(&h->agents[1], "temperature") == 1.0);
    const char *names[] = {"chimera_homo_gpu80_ctx512", "chimera_homo_gpu80_ctx1024",
                           "chimera_homo_gpu80_ctx2048", "chimera_homo_gpu100_ctx512"};
    double ctx[] = {512, 1024, 2048, 512}, gpu[] = {80, 80, 80, 100};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(p.configs[2 + i].name, names[i]);
        for (int a = 0; a < 2; a++) {
            assert_true(opt(&p.configs[2 + i].agents[a], "num_ctx") == ctx[i]);
            assert_true(opt(&p.configs[2 + i].agents[a], "num_gpu") == gpu[i]);
        }
    }
    assert_string_equal(b->agents[0].model, "gemma3:latest");
    pb_plan_free(&p);
}

/* The prompts are the study's, byte for byte (when its data is present). */
static void test_tr115_prompts_verbatim(void **st)
{
    (void)st;
    char path[4096];
    snprintf(path, sizeof path, "%s/data/tr115-v1/results/runtime-tokio-default/"
             "chimera_homo_gpu80_ctx512/run_1/run_1/metrics.json", PARBENCH_SHARED_DIR);
    char *buf;
    size_t len;
    char err[512];
    if (pb_fs_read_all(path, 1u << 24, &buf, &len, err, sizeof err) != 0) {
        printf("skipped: %s\n", err);
        return;
    }
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    pb_plan p;
    assert_int_equal(pb_plan_load(&p, "tr115", NULL, err, sizeof err), 0);
    const char *keys[2] = {"collector", "insight"};
    for (int a = 0; a < 2; a++) {
        const cJSON *pr = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, keys[a]), "config"), "prompt");
        assert_non_null(pr);
        assert_string_equal(p.configs[0].agents[a].prompt, pr->valuestring);
    }
    cJSON_Delete(j);
    pb_plan_free(&p);
}

static void test_overrides(void **st)
{
    (void)st;
    pb_overrides o;
    pb_overrides_init(&o);
    o.runtimes = "uv,threads-1kb";
    o.configs = "chimera_homo_gpu100_ctx512";
    o.runs = 2;
    o.chunk_bytes = 512;
    o.no_solo = 1;
    o.timeout_s = 2.5;
    pb_plan p;
    char err[512];
    assert_int_equal(pb_plan_load(&p, "tr115", &o, err, sizeof err), 0);
    assert_int_equal(p.runs, 2);
    assert_int_equal(p.solo, 0);
    assert_true(p.timeout_s == 2.5);
    assert_int_equal(p.n_configs, 1);
    assert_string_equal(p.runtimes[0].label, "uv-512b");
    assert_int_equal(p.runtimes[0].chunk_bytes, 512);
    assert_string_equal(p.runtimes[1].label, "threads-1kb");
    assert_int_equal(p.runtimes[1].chunk_bytes, 1024);
    assert_int_equal(p.runtimes[1].driver, PB_DRIVER_THREADS);
    pb_plan_free(&p);

    pb_overrides_init(&o);
    o.configs = "nosuch";
    assert_int_equal(pb_plan_load(&p, "tr115", &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "nosuch"));
    pb_overrides_init(&o);
    o.runtimes = "tokio";
    assert_int_equal(pb_plan_load(&p, "tr115", &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown runtime 'tokio'"));
}

static void test_count_and_errors(void **st)
{
    (void)st;
    const char *js = "{\"agents\":[{\"id\":\"w\",\"count\":5,\"api\":\"chat\",\"prompt\":\"x\","
                     "\"endpoint\":[\"http://h:1/\",\"http://h:2\"],\"options\":{\"num_predict\":9}}],"
                     "\"configs\":[{\"name\":\"c\",\"agents\":{\"w-3\":{\"num_predict\":1}}}]}";
    pb_plan p;
    char err[512];
    assert_int_equal(pb_plan_from_json(&p, js, strlen(js), "t", NULL, NULL, err, sizeof err), 0);
    assert_int_equal(p.configs[0].n_agents, 5);
    assert_int_equal(p.n_endpoints, 2);
    assert_string_equal(p.endpoints[0], "http://h:1");
    assert_string_equal(p.configs[0].agents[2].id, "w-3");
    assert_int_equal(p.configs[0].agents[2].endpoint_index, 0);
    assert_int_equal(p.configs[0].agents[3].endpoint_index, 1);
    assert_true(opt(&p.configs[0].agents[2], "num_predict") == 1);
    assert_true(opt(&p.configs[0].agents[1], "num_predict") == 9);
    assert_string_equal(p.configs[0].agents[0].api, "chat");
    pb_plan_free(&p);

    const char *bad[] = {
        "{}", "[1]", "{\"agents\":[]}",
        "{\"agents\":[{\"id\":\"a\",\"endpoint\":\"http://h\"}]}",
        "{\"agents\":[{\"id\":\"a\",\"endpoint\":\"http://h\",\"prompt\":\"p\",\"api\":\"x\"}]}",
        "{\"agents\":[{\"id\":\"a\",\"endpoint\":\"ftp://h\",\"prompt\":\"p\"}]}",
        "{\"agents\":[{\"id\":\"a\",\"endpoint\":\"http://h\",\"prompt\":\"p\"},"
        "{\"id\":\"a\",\"endpoint\":\"http://h\",\"prompt\":\"p\"}]}",
        "{\"runs\":0,\"agents\":[{\"id\":\"a\",\"endpoint\":\"http://h\",\"prompt\":\"p\"}]}",
        "{\"agents\":[{\"id\":\"a\",\"endpoint\":\"http://h\",\"prompt\":\"p\"}],"
        "\"configs\":[{\"name\":\"c\",\"agents\":{\"zz\":{}}}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(pb_plan_from_json(&p, bad[i], strlen(bad[i]), "t", NULL, NULL, err, sizeof err), -1);
        assert_true(strlen(err) > 0);
    }
}

/* Adding runtimes or runs keeps the identity of existing runs; changing
 * what an agent sends changes it. */
static void test_run_key(void **st)
{
    (void)st;
    pb_overrides o;
    pb_plan a, b, c;
    char err[512], ka[32], kb[32], kc[32];
    pb_overrides_init(&o);
    o.runtimes = "uv";
    assert_int_equal(pb_plan_load(&a, "tr115", &o, err, sizeof err), 0);
    o.runtimes = "threads,uv";
    o.runs = 9;
    assert_int_equal(pb_plan_load(&b, "tr115", &o, err, sizeof err), 0);
    o.timeout_s = 3;
    assert_int_equal(pb_plan_load(&c, "tr115", &o, err, sizeof err), 0);
    pb_plan_run_key(&a, &a.runtimes[0], &a.configs[0], 1, ka, sizeof ka);
    pb_plan_run_key(&b, &b.runtimes[1], &b.configs[0], 1, kb, sizeof kb);
    pb_plan_run_key(&c, &c.runtimes[1], &c.configs[0], 1, kc, sizeof kc);
    assert_string_equal(ka, kb);
    assert_string_not_equal(ka, kc);
    assert_true(pb_plan_run_seed(&a, &a.runtimes[0], &a.configs[0], 1) !=
                pb_plan_run_seed(&a, &a.runtimes[0], &a.configs[0], 2));
    pb_plan_free(&a);
    pb_plan_free(&b);
    pb_plan_free(&c);
}


/* Issue 13: every plan input that becomes a path, a header or a message is
 * refused before anything is measured, naming the input and the fix. */
static int plan_err(const char *js, const pb_overrides *o, char *err, size_t errlen)
{
    pb_plan p;
    err[0] = '\0';
    int rc = pb_plan_from_json(&p, js, strlen(js), "t.json", NULL, o, err, errlen);
    if (rc == 0)
        pb_plan_free(&p);
    return rc;
}

#define AGENT "\"agents\":[{\"id\":\"a\",\"endpoint\":\"http://h\",\"prompt\":\"p\"}]"

static void test_labels_become_paths(void **st)
{
    (void)st;
    char err[1024];
    const char *names[] = {"..", ".", ".hidden", "esc\\u001b[31m"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char js[512];
        snprintf(js, sizeof js, "{" AGENT ",\"configs\":[{\"name\":\"%s\"}]}", names[i]);
        assert_int_equal(plan_err(js, NULL, err, sizeof err), -1);
        assert_non_null(strstr(err, "configs[0]"));
    }
    char js[1024], name[300];
    memset(name, 'n', 200);
    name[200] = '\0';
    snprintf(js, sizeof js, "{" AGENT ",\"configs\":[{\"name\":\"%s\"}]}", name);
    assert_int_equal(plan_err(js, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "128"));
    /* The runtime label is a directory too. */
    pb_overrides o;
    pb_overrides_init(&o);
    o.runtimes = "uv-99999999999999999kb";
    assert_int_equal(plan_err("{" AGENT "}", &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "16777216"));
    o.runtimes = "uv-1099511627776b";
    assert_int_equal(plan_err("{" AGENT "}", &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "16777216"));
    o.runtimes = "uv-16384kb";
    assert_int_equal(plan_err("{" AGENT "}", &o, err, sizeof err), 0);
    o.runtimes = "uv-16385kb";
    assert_int_equal(plan_err("{" AGENT "}", &o, err, sizeof err), -1);
}

/* The check behind the label rules: two pairs naming one directory are
 * refused even if a label slipped through (built by hand here). */
static void test_path_collision(void **st)
{
    (void)st;
    pb_runtime rts[2] = {{.label = "uv"}, {.label = "threads"}};
    pb_config cfgs[1] = {{.name = ".."}};
    pb_plan p = {.n_runtimes = 2, .runtimes = rts, .n_configs = 1, .configs = cfgs};
    char err[512];
    assert_int_equal(pb_plan_check_paths(&p, err, sizeof err), -1);
    assert_non_null(strstr(err, "same directory"));
    cfgs[0].name = "c";
    assert_int_equal(pb_plan_check_paths(&p, err, sizeof err), 0);
    pb_config two[2] = {{.name = "a/../b"}, {.name = "b"}};
    p.configs = two;
    p.n_configs = 2;
    p.n_runtimes = 1;
    assert_int_equal(pb_plan_check_paths(&p, err, sizeof err), -1);
}

static void test_header_names(void **st)
{
    (void)st;
    char err[1024];
    const char *js = "{\"agents\":[{\"id\":\"a\",\"endpoint\":\"http://h\",\"prompt\":\"p\","
                     "\"headers\":{\"X-Dummy: 1\\r\\nX-Parbench-Fault\":\"http500\"}}]}";
    assert_int_equal(plan_err(js, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "header name"));
    js = "{\"agents\":[{\"id\":\"a\",\"endpoint\":\"http://h\",\"prompt\":\"p\","
         "\"headers\":{\"X-Ok\":\"v\"}}]}";
    assert_int_equal(plan_err(js, NULL, err, sizeof err), 0);
}

static void test_unknown_keys(void **st)
{
    (void)st;
    char err[1024];
    assert_int_equal(plan_err("{\"run\":3," AGENT "}", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"run\""));
    assert_non_null(strstr(err, "\"runs\""));
    assert_int_equal(plan_err("{\"agents\":[{\"id\":\"a\",\"endpoint\":\"http://h\",\"prompt\":\"p\","
                              "\"optoins\":{}}]}", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "agents[0]"));
    assert_non_null(strstr(err, "\"options\""));
    assert_int_equal(plan_err("{" AGENT ",\"configs\":[{\"name\":\"c\",\"option\":{}}]}",
                              NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "configs[0]"));
    assert_non_null(strstr(err, "\"options\""));
    assert_int_equal(plan_err("{" AGENT ",\"emulate\":{\"time_scal\":2}}", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"time_scale\""));
    /* Every key the parser reads is known (emulate.models came later). */
    assert_int_equal(plan_err("{" AGENT ",\"emulate\":{\"models\":[\"gemma3:latest\"]}}",
                              NULL, err, sizeof err), 0);
    /* Far from every key: no suggestion, but the key is named. */
    assert_int_equal(plan_err("{" AGENT ",\"zzzzzzzz\":1}", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "zzzzzzzz"));
}

static void test_syntax_position(void **st)
{
    (void)st;
    char err[1024];
    /* The missing comma is on line 3, before column 3 ("runs"). */
    assert_int_equal(plan_err("{\n  \"name\": \"x\"\n  \"runs\": 2\n}", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 3"));
    assert_non_null(strstr(err, "column 3"));
    assert_int_equal(plan_err("[1]", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a JSON object"));
}

/* Issue 22 §4: a name with \u0000 is refused, not cut short ("a\u0000b"
 * ran as "a"); an escaped backslash before "u0000" is plain text. */
static void test_nul_escape(void **st)
{
    (void)st;
    char err[1024];
    assert_int_equal(plan_err("{\"name\":\"x\\u0000y\"," AGENT "}", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "u0000"));
    assert_int_equal(plan_err("{" AGENT ",\"configs\":[{\"name\":\"c\\u0000\"}]}", NULL, err,
                              sizeof err), -1);
    assert_int_equal(plan_err("{\"name\":\"x\\\\u0000y\"," AGENT "}", NULL, err, sizeof err), 0);
    /* Control characters in a name or model would reach the terminal in
     * collect's messages: refused (ESC, and the C1 CSI U+009B); a prompt
     * may hold newlines. */
    assert_int_equal(plan_err("{\"model\":\"m\\u001b[2J\"," AGENT "}", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "control character"));
    assert_null(strchr(err, 0x1b));
    assert_int_equal(plan_err("{\"name\":\"n\\u009b2J\"," AGENT "}", NULL, err, sizeof err), -1);
    assert_int_equal(plan_err("{\"agents\":[{\"id\":\"a\",\"endpoint\":\"http://h\","
                              "\"prompt\":\"line 1\\nline 2\"}]}", NULL, err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tr115),
        cmocka_unit_test(test_tr115_prompts_verbatim),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_count_and_errors),
        cmocka_unit_test(test_run_key),
        cmocka_unit_test(test_labels_become_paths),
        cmocka_unit_test(test_header_names),
        cmocka_unit_test(test_path_collision),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_syntax_position),
        cmocka_unit_test(test_nul_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
