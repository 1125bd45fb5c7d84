/* The plan-free command line (cli_plan), --api over a plan, the options an
 * OpenAI dialect refuses at load time, and the X-Parbench-Emulator header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_plan.h"
#include "servers.h"

static void test_cli_plan_round_robin(void **st)
{
    (void)st;
    pb_cli_plan c = {.endpoints = {"http://h1:1", "http://h2:2/"}, .n_endpoints = 2,
                     .model = "m:1", .agents = 3, .prompt = "hello", .num_predict = 30};
    char *json, err[600];
    assert_int_equal(pb_cli_plan_build(&c, &json, err, sizeof err), 0);
    pb_overrides o;
    pb_overrides_init(&o);
    o.api = "openai";
    pb_plan p;
    assert_int_equal(pb_plan_from_json(&p, json, strlen(json), "command line", ".", &o, err, sizeof err), 0);
    assert_int_equal(p.n_configs, 1);
    assert_int_equal(p.configs[0].n_agents, 3);
    assert_int_equal(p.n_endpoints, 2);
    const char *ids[] = {"agent-1", "agent-2", "agent-3"};
    const char *eps[] = {"http://h1:1", "http://h2:2", "http://h1:1"};
    for (int i = 0; i < 3; i++) {
        const pb_agent_spec *a = &p.configs[0].agents[i];
        assert_string_equal(a->id, ids[i]);
        assert_string_equal(a->endpoint, eps[i]);
        assert_string_equal(a->api, "openai-chat"); /* the alias, resolved */
        assert_string_equal(a->model, "m:1");
        assert_string_equal(a->prompt, "hello");
        assert_int_equal(cJSON_GetObjectItem(a->options, "num_predict")->valueint, 30);
    }
    /* --dry-run's plan file loads back to the same plan (same hash), with
     * no flags at all. */
    char h1[32], h2[32];
    pb_plan_hash(&p, h1, sizeof h1);
    cJSON *file = pb_cli_plan_file_json(&p);
    char *text = cJSON_Print(file);
    pb_plan q;
    assert_int_equal(pb_plan_from_json(&q, text, strlen(text), "saved", ".", NULL, err, sizeof err), 0);
    pb_plan_hash(&q, h2, sizeof h2);
    assert_string_equal(h1, h2);
    cJSON_free(text);
    cJSON_Delete(file);
    pb_plan_free(&q);
    pb_plan_free(&p);
    free(json);
}

static void test_cli_plan_errors_and_file(void **st)
{
    (void)st;
    char *json, err[600];
    pb_cli_plan c = {.endpoints = {"http://h1:1"}, .n_endpoints = 1};
    assert_int_equal(pb_cli_plan_build(&c, &json, err, sizeof err), -1);
    assert_non_null(strstr(err, "--prompt"));
    c.prompt = "@/nonexistent/parbench-prompt";
    assert_int_equal(pb_cli_plan_build(&c, &json, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/parbench-prompt"));
    char path[] = "/tmp/pbcli.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "from a file\n", 12), 12);
    close(fd);
    char arg[64];
    snprintf(arg, sizeof arg, "@%s", path);
    c.prompt = arg;
    assert_int_equal(pb_cli_plan_build(&c, &json, err, sizeof err), 0);
    unlink(path);
    pb_plan p;
    assert_int_equal(pb_plan_from_json(&p, json, strlen(json), "command line", ".", NULL, err, sizeof err), 0);
    /* One agent per endpoint by default; count 1 keeps the bare id. */
    assert_int_equal(p.configs[0].n_agents, 1);
    assert_string_equal(p.configs[0].agents[0].prompt, "from a file\n");
    assert_string_equal(p.configs[0].agents[0].model, "gemma3:latest");
    assert_string_equal(p.configs[0].agents[0].api, "generate");
    pb_plan_free(&p);
    free(json);
}

static void test_api_over_plan(void **st)
{
    (void)st;
    char err[1024];
    pb_plan p;
    pb_overrides o;
    pb_overrides_init(&o);
    /* tr115's configs set num_ctx, num_gpu: OpenAI has no such fields. */
    o.api = "openai-completions";
    assert_int_equal(pb_plan_load(&p, "tr115", &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "has no OpenAI equivalent"));
    assert_non_null(strstr(err, "api openai-completions"));
    o.api = "nonsense";
    const char *js = "{\"agents\":[{\"id\":\"a\",\"endpoint\":\"http://h\",\"prompt\":\"p\"}]}";
    assert_int_equal(pb_plan_from_json(&p, js, strlen(js), "t", NULL, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "--api nonsense"));
    const char *js2 = "{\"api\":\"openai\",\"agents\":[{\"id\":\"a\",\"endpoint\":\"http://h\",\"prompt\":\"p\","
                      "\"options\":{\"seed\":1}}],\"configs\":[{\"name\":\"c\",\"agents\":{\"a\":{\"top_k\":4}}}]}";
    assert_int_equal(pb_plan_from_json(&p, js2, strlen(js2), "t", NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "configs[0]: agent a (api openai-chat): option \"top_k\""));
    const char *js3 = "{\"agents\":[{\"id\":\"a\",\"endpoint\":\"http://h\",\"prompt\":\"p\",\"api\":\"vllm\"}]}";
    assert_int_equal(pb_plan_from_json(&p, js3, strlen(js3), "t", NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"api\" \"vllm\" is not one of generate, chat, openai-chat, openai-completions"));
}

static void expect_header(const char *value, const char *want)
{
    cJSON *j = pb_servers_emulator_header(value);
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    if (!want)
        assert_null(s);
    else if (!s || strcmp(s, want) != 0)
        fail_msg("'%s' gave %s, want %s", value, s ? s : "NULL", want);
    free(s);
    cJSON_Delete(j);
}

static void test_emulator_header(void **st)
{
    (void)st;
    expect_header(NULL, NULL);
    expect_header("time-scale=20; preset=ideal", "{\"time_scale\":20,\"preset\":\"ideal\"}");
    expect_header("preset=default;time-scale=2.5", "{\"time_scale\":2.5,\"preset\":\"default\"}");
    expect_header("  time-scale = 1 ;  preset = ideal ; gpu=shared",
                  "{\"time_scale\":1,\"preset\":\"ideal\"}");
    /* Malformed parts are null, never a crash or a made-up value. */
    expect_header("time-scale=fast; preset=", "{\"time_scale\":null,\"preset\":null}");
    expect_header("time-scale=-3; preset=a b", "{\"time_scale\":null,\"preset\":null}");
    expect_header("time-scale=1e999;preset=x\"y", "{\"time_scale\":null,\"preset\":null}");
    expect_header("", "{\"time_scale\":null,\"preset\":null}");
    expect_header(";;;=;", "{\"time_scale\":null,\"preset\":null}");
    cJSON *e = pb_servers_entry("http://h", "openai-chat", "ollama-emu", NULL, "time-scale=4; preset=ideal");
    char *s = cJSON_PrintUnformatted(e);
    assert_string_equal(s, "{\"endpoint\":\"http://h\",\"dialect\":\"openai-chat\",\"server_header\":"
                           "\"ollama-emu\",\"version\":null,\"emulator\":{\"time_scale\":4,\"preset\":\"ideal\"}}");
    free(s);
    cJSON_Delete(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_plan_round_robin),
        cmocka_unit_test(test_cli_plan_errors_and_file),
        cmocka_unit_test(test_api_over_plan),
        cmocka_unit_test(test_emulator_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
