/* emu_tools: tool calling as an Ollama model with the `tools` capability
 * does it: given the request's tools it picks one (from the request's
 * RNG, so a seeded request always makes the same call) and writes its
 * arguments as a JSON object valid against the tool's `parameters` schema
 * (emu_schema.c). The call is rendered in each API's shape: Ollama's
 * message.tool_calls (api/types.go ToolCall: id, function{index, name,
 * arguments object}) and OpenAI's (openai/openai.go ToToolCalls: id,
 * index, type "function", function{name, arguments as a JSON string}). */
#include "emu_internal.h"
#include "pb_mem.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static const char *go_kind(const cJSON *v)
{
    return cJSON_IsNumber(v) ? "number"
           : cJSON_IsBool(v) ? "bool"
           : cJSON_IsArray(v) ? "array"
           : cJSON_IsObject(v) ? "object"
                               : "string";
}

int emu_tools_check(const cJSON *tools, const char *go_struct, char *err,
                    size_t errlen)
{
    if (!tools || cJSON_IsNull(tools))
        return 0;
    if (!cJSON_IsArray(tools)) {
        snprintf(err, errlen,
                 "json: cannot unmarshal %s into Go struct field %s.tools of "
                 "type api.Tools",
                 go_kind(tools), go_struct);
        return -1;
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, tools)
    {
        if (!cJSON_IsObject(t)) {
            snprintf(err, errlen,
                     "json: cannot unmarshal %s into Go struct field "
                     "%s.tools of type api.Tool",
                     go_kind(t), go_struct);
            return -1;
        }
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(t, "function");
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(f, "name");
        if ((f && !cJSON_IsNull(f) && !cJSON_IsObject(f)) ||
            (n && !cJSON_IsNull(n) && !cJSON_IsString(n))) {
            snprintf(err, errlen,
                     "json: cannot unmarshal %s into Go struct field "
                     "%s.tools.function%s of type %s",
                     go_kind(n && !cJSON_IsObject(f) ? f : n), go_struct,
                     cJSON_IsObject(f) ? ".name" : "",
                     cJSON_IsObject(f) ? "string" : "api.ToolFunction");
            return -1;
        }
    }
    return 0;
}

int emu_tools_count(const cJSON *tools)
{
    int n = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tools)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(t, "function"), "name");
        n += cJSON_IsString(name) && name->valuestring[0];
    }
    return cJSON_IsArray(tools) ? n : 0;
}

void emu_tools_call(emu_call *call, const cJSON *tools, gsl_rng *rng)
{
    memset(call, 0, sizeof *call);
    int n = emu_tools_count(tools), k = 0;
    int pick = n > 0 ? (int)gsl_rng_uniform_int(rng, (unsigned long)n) : 0;
    const cJSON *t, *fn = NULL;
    cJSON_ArrayForEach(t, tools)
    {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(t, "function");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(f, "name");
        if (!(cJSON_IsString(name) && name->valuestring[0]))
            continue;
        if (k++ == pick) {
            fn = f;
            break;
        }
    }
    /* server/routes.go toolCallId: "call_" and 8 of [a-z0-9]. */
    static const char letters[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    memcpy(call->id, "call_", 5);
    for (int i = 0; i < 8; i++)
        call->id[5 + i] = letters[gsl_rng_uniform_int(rng, 36)];
    call->id[13] = '\0';
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
    call->name = pb_mem_strdup(cJSON_IsString(name) ? name->valuestring : "");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
    emu_buf args = {0};
    /* Arguments are always an object (ToolCallFunctionArguments). */
    if (cJSON_IsObject(params) &&
        (cJSON_GetObjectItemCaseSensitive(params, "properties") ||
         cJSON_GetObjectItemCaseSensitive(params, "$ref")))
        emu_schema_value(&args, params, rng);
    else
        emu_buf_append(&args, "{}", 2);
    call->args = args.data;
    if (!call->name || !call->args)
        PB_MEM_OOM();
}

void emu_tools_call_free(emu_call *call)
{
    free(call->name);
    free(call->args);
    memset(call, 0, sizeof *call);
}

static void put_str(emu_buf *b, const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *p = j ? cJSON_PrintUnformatted(j) : NULL;
    if (!p)
        PB_MEM_OOM();
    emu_buf_append(b, p, strlen(p));
    cJSON_free(p);
    cJSON_Delete(j);
}

/* The index is the call's place in the answer (the tool parser's running
 * count, ToolCallFunction.Index), also when calls go out one per chunk. */
void emu_tools_native(emu_buf *b, const emu_call *calls, int from, int to)
{
    emu_buf_append(b, "[", 1);
    for (int i = from; i < to; i++) {
        const emu_call *call = &calls[i];
        emu_buf_printf(b, "%s{\"id\":\"%s\",\"function\":{\"index\":%d,"
                       "\"name\":", i > from ? "," : "", call->id, i);
        put_str(b, call->name);
        emu_buf_append(b, ",\"arguments\":", 13);
        emu_buf_append(b, call->args, strlen(call->args));
        emu_buf_append(b, "}}", 2);
    }
    emu_buf_append(b, "]", 1);
}

void emu_tools_openai(emu_buf *b, const emu_call *calls, int from, int to)
{
    emu_buf_append(b, "[", 1);
    for (int i = from; i < to; i++) {
        const emu_call *call = &calls[i];
        emu_buf_printf(b,
                       "%s{\"id\":\"%s\",\"index\":%d,\"type\":\"function\","
                       "\"function\":{\"name\":",
                       i > from ? "," : "", call->id, i);
        put_str(b, call->name);
        emu_buf_append(b, ",\"arguments\":", 13);
        put_str(b, call->args);
        emu_buf_append(b, "}}", 2);
    }
    emu_buf_append(b, "]", 1);
}

int emu_tools_tokens(const emu_call *call)
{
    /* What a Qwen-style model writes for it, about 4 bytes a token:
     * <tool_call>\n{"name": "NAME", "arguments": ARGS}\n</tool_call>
     * (the two tags are one token each). */
    size_t len = strlen("\n{\"name\": \"\", \"arguments\": }\n") +
                 strlen(call->name) + strlen(call->args);
    return (int)((len + 3) / 4) + 2;
}
