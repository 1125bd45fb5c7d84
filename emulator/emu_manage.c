/* emu_manage: the management routes setup scripts call, over the served
 * model list (server/routes.go CopyHandler, DeleteHandler, PushHandler;
 * server/create.go CreateHandler from an existing model; server/images.go
 * PushModel).
 *
 * The list is the emulator's own copy of --model (e->o.models), shared by
 * its instances as one Ollama models directory would be. A copy or a
 * created model takes a free entry and its source's capabilities; a
 * deleted model's entry is blanked (never matched, not listed) and reused
 * only once no instance has it loaded, so a runner never changes model
 * under its requests. Nothing is written anywhere: a push pretends the
 * registry took every layer. */
#include "emu_internal.h"

#include <string.h>

#include <cjson/cJSON.h>

static void reply_error(emu_conn *c, int status, const char *msg)
{
    emu_http_reply_error(c, status, msg);
    emu_conn_response_done(c);
}

/* 200 with no body: the handler wrote nothing (gin's default). */
static void reply_empty(emu_conn *c)
{
    emu_http_reply_headers(c, 200, "Content-Length: 0\r\n");
    emu_conn_response_done(c);
}

static const char *str(const cJSON *root, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* The model a request names: "model", or the older "name" (Ollama reads
 * both, model first). */
static const char *model_arg(const cJSON *root)
{
    const char *n = str(root, "model");
    return n[0] ? n : str(root, "name");
}

/* A string field of the wrong type: encoding/json's 400. */
static int typed(emu_conn *c, const cJSON *root, const char *st,
                 const char *const *keys, int n)
{
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, keys[i]);
        if (!v || cJSON_IsNull(v) || cJSON_IsString(v))
            continue;
        char err[200];
        snprintf(err, sizeof err,
                 "json: cannot unmarshal %s into Go struct field %s.%s of "
                 "type string",
                 cJSON_IsNumber(v) ? "number" : cJSON_IsBool(v) ? "bool"
                 : cJSON_IsArray(v) ? "array" : "object", st, keys[i]);
        reply_error(c, 400, err);
        return -1;
    }
    return 0;
}

/* An entry for a new model: a never-used one, or a deleted one no
 * instance has loaded. -1 when none is free. */
static int free_entry(emu *e)
{
    if (e->o.n_models < EMU_MAX_MODELS)
        return e->o.n_models++;
    for (int i = 0; i < e->o.n_models; i++) {
        if (e->o.models[i][0])
            continue;
        int loaded = 0;
        for (int k = 0; k < e->o.n_instances; k++)
            loaded |= e->inst[k].runner[i].loaded;
        if (!loaded)
            return i;
    }
    return -1;
}

/* dst becomes a model like src (an existing one is overwritten). */
static int add_model(emu *e, const char *dst, int src)
{
    int i = emu_model_find(&e->o, dst);
    if (i < 0 && (i = free_entry(e)) < 0)
        return -1;
    snprintf(e->o.models[i], sizeof e->o.models[i], "%s", dst);
    e->model_caps[i] = e->model_caps[src];
    return 0;
}

/* A model name Ollama would accept as a destination: non-empty and short
 * enough for the list (model.Name.IsValid's parts are longer). */
static int name_ok(const emu *e, const char *n)
{
    return n[0] && strlen(n) < sizeof e->o.models[0] && !strchr(n, ' ');
}

static void route_copy(emu_conn *c, const char *path)
{
    (void)path;
    emu *e = c->inst->emu;
    cJSON *root = emu_api_parse_body(c);
    if (!root)
        return;
    static const char *const keys[] = {"source", "destination"};
    char err[400];
    const char *src = str(root, "source"), *dst = str(root, "destination");
    int si;
    if (typed(c, root, "CopyRequest", keys, 2))
        goto out;
    if (!name_ok(e, src)) {
        snprintf(err, sizeof err, "source \"%.200s\" is invalid", src);
        reply_error(c, 400, err);
    } else if (!name_ok(e, dst)) {
        snprintf(err, sizeof err, "destination \"%.200s\" is invalid", dst);
        reply_error(c, 400, err);
    } else if ((si = emu_model_find(&e->o, src)) < 0) {
        snprintf(err, sizeof err, "model \"%.200s\" not found", src);
        reply_error(c, 404, err);
    } else if (add_model(e, dst, si)) {
        snprintf(err, sizeof err, "ollama-emu: at most %d models",
                 EMU_MAX_MODELS);
        reply_error(c, 500, err);
    } else {
        reply_empty(c);
    }
out:
    cJSON_Delete(root);
}

static void route_delete(emu_conn *c, const char *path)
{
    (void)path;
    emu *e = c->inst->emu;
    cJSON *root = emu_api_parse_body(c);
    if (!root)
        return;
    static const char *const keys[] = {"model", "name"};
    char err[400];
    const char *n = model_arg(root);
    int mi;
    if (typed(c, root, "DeleteRequest", keys, 2))
        goto out;
    if (!name_ok(e, n)) {
        snprintf(err, sizeof err, "name \"%.200s\" is invalid", n);
        reply_error(c, 400, err);
    } else if ((mi = emu_model_find(&e->o, n)) < 0) {
        snprintf(err, sizeof err, "model '%.200s' not found", n);
        reply_error(c, 404, err);
    } else {
        /* The manifest goes; a loaded runner stays until it expires, and
         * /api/ps shows it by its name meanwhile. */
        memcpy(e->deleted_name[mi], e->o.models[mi], sizeof e->deleted_name[mi]);
        e->o.models[mi][0] = '\0';
        reply_empty(c);
    }
out:
    cJSON_Delete(root);
}

/* The layers of a model, as create reuses or makes them: the weights and
 * template always exist; system and parameters are new when given. */
static void create_lines(emu_buf *b, const emu *e, int src, const cJSON *root)
{
    char d[65];
    emu_model_digest(e->o.models[src], d);
    emu_buf_printf(b, "{\"status\":\"using existing layer sha256:%s\"}\n", d);
    static const char *const extra[] = {"template", "system", "parameters",
                                        "license", "messages"};
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, extra[i]);
        if (!v || cJSON_IsNull(v))
            continue;
        char *s = cJSON_PrintUnformatted(v);
        char salt[160];
        snprintf(salt, sizeof salt, "%s/%s", e->o.models[src], extra[i]);
        emu_model_digest(s ? s : salt, d);
        cJSON_free(s);
        emu_buf_printf(b, "{\"status\":\"creating new layer sha256:%s\"}\n", d);
    }
    APPEND_LIT(b, "{\"status\":\"writing manifest\"}\n");
    APPEND_LIT(b, "{\"status\":\"success\"}\n");
}

/* waitForStream (stream:false): the last status, or the error. */
static void reply_last(emu_conn *c, const emu_buf *b)
{
    size_t end = b->len - 1, start = end;
    while (start > 0 && b->data[start - 1] != '\n')
        start--;
    cJSON *last = cJSON_ParseWithLength(b->data + start, end - start);
    const cJSON *er = cJSON_GetObjectItemCaseSensitive(last, "error");
    if (cJSON_IsString(er))
        emu_http_reply_error(c, 500, er->valuestring);
    else
        emu_http_reply(c, 200, "application/json; charset=utf-8",
                       b->data + start, end - start, 0);
    cJSON_Delete(last);
    emu_conn_response_done(c);
}

static void route_create(emu_conn *c, const char *path)
{
    (void)path;
    emu *e = c->inst->emu;
    cJSON *root = emu_api_parse_body(c);
    if (!root)
        return;
    static const char *const keys[] = {"model", "name", "from", "system",
                                       "template"};
    const char *n = model_arg(root);
    const char *from = str(root, "from");
    int stream = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(root, "stream"));
    emu_buf b = {0};
    int si;
    if (typed(c, root, "CreateRequest", keys, 5))
        goto out;
    if (!name_ok(e, n)) {
        reply_error(c, 400, "invalid model name");
        goto out;
    }
    if (!from[0]) {
        /* errNeitherFromOrFiles, with its status, before any line. */
        reply_error(c, 400, "neither 'from' or 'files' was specified");
        goto out;
    }
    if ((si = emu_model_find(&e->o, from)) < 0) {
        /* parseFromModel pulls a model it does not have; the pull fails
         * as /api/pull's does. */
        APPEND_LIT(&b, "{\"status\":\"pulling manifest\"}\n");
        APPEND_LIT(&b, "{\"error\":\"pull model manifest: file does not "
                           "exist\"}\n");
    } else {
        create_lines(&b, e, si, root);
        if (add_model(e, n, si)) {
            b.len = 0;
            emu_buf_printf(&b, "{\"error\":\"ollama-emu: at most %d models\"}\n",
                           EMU_MAX_MODELS);
        }
    }
    if (stream)
        emu_api_progress(c, &b);
    else
        reply_last(c, &b);
out:
    emu_buf_free(&b);
    cJSON_Delete(root);
}

/* PushModel: each layer uploaded (one progress line with the whole
 * size), then the manifest. A model not here fails after "retrieving
 * manifest", as ParseNamedManifest does. */
static void route_push(emu_conn *c, const char *path)
{
    (void)path;
    emu *e = c->inst->emu;
    cJSON *root = emu_api_parse_body(c);
    if (!root)
        return;
    static const char *const keys[] = {"model", "name"};
    const char *n = model_arg(root);
    int stream = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(root, "stream"));
    emu_buf b = {0};
    int mi;
    if (typed(c, root, "PushRequest", keys, 2))
        goto out;
    if (!n[0]) {
        reply_error(c, 400, "model is required");
        goto out;
    }
    APPEND_LIT(&b, "{\"status\":\"retrieving manifest\"}\n");
    if ((mi = emu_model_find(&e->o, n)) < 0) {
        APPEND_LIT(&b, "{\"status\":\"couldn't retrieve manifest\"}\n");
        APPEND_LIT(&b, "{\"error\":\"open manifest: file does not "
                           "exist\"}\n");
    } else {
        char d[65];
        emu_model_digest(e->o.models[mi], d);
        long long size = (long long)EMU_MODEL_SIZE;
        emu_buf_printf(&b,
                       "{\"status\":\"pushing %.12s\",\"digest\":\"sha256:%s\","
                       "\"total\":%lld,\"completed\":%lld}\n",
                       d, d, size, size);
        APPEND_LIT(&b, "{\"status\":\"pushing manifest\"}\n");
        APPEND_LIT(&b, "{\"status\":\"success\"}\n");
    }
    if (stream)
        emu_api_progress(c, &b);
    else
        reply_last(c, &b);
out:
    emu_buf_free(&b);
    cJSON_Delete(root);
}

const emu_route emu_manage_routes[] = {
    {"/api/copy", HTTP_POST, route_copy},
    {"/api/delete", HTTP_DELETE, route_delete},
    {"/api/create", HTTP_POST, route_create},
    {"/api/push", HTTP_POST, route_push},
};
const size_t emu_manage_n_routes =
    sizeof emu_manage_routes / sizeof *emu_manage_routes;
