/* emu_api: the routes beyond generate and chat that harnesses use for
 * preflight and retrieval: /api/show, /api/pull, and the bodies of
 * /api/embed and /api/embeddings (those two are scheduled like a generate,
 * see emu_req.c). Also the request-body parsing shared by every POST route,
 * with Go's encoding/json messages (server/routes.go answers bind errors
 * with err.Error()). */
#include "emu_internal.h"
#include "pb_mem.h"
#include "pb_text.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsl/gsl_randist.h>

static void reply_error(emu_conn *c, int status, const char *msg)
{
    emu_http_reply_error(c, status, msg);
    emu_conn_response_done(c);
}

cJSON *emu_api_parse_body(emu_conn *c)
{
    const char *d = c->body.data ? c->body.data : "";
    size_t len = c->body.len, start = 0, end = len;
    while (start < len && isspace((unsigned char)d[start]))
        start++;
    while (end > start && isspace((unsigned char)d[end - 1]))
        end--;
    /* gin's ShouldBindJSON: an empty body is io.EOF. */
    if (start == end) {
        reply_error(c, 400, "missing request body");
        return NULL;
    }
    const char *stop = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(d, len, &stop, 0);
    char msg[160];
    if (!root) {
        /* Go's json.Decoder: a document cut short is "unexpected EOF";
         * otherwise it names the offending byte. cJSON reports where it
         * stopped, which tells the two apart. */
        size_t at = stop ? (size_t)(stop - d) : start;
        int eof = at >= end ||
                  (at + 1 == end && (strchr("{}[],:\"-.", d[at]) ||
                                     isalnum((unsigned char)d[at])));
        if (eof) {
            snprintf(msg, sizeof msg, "unexpected EOF");
        } else {
            size_t p = at;
            while (p > start && isspace((unsigned char)d[p - 1]))
                p--;
            char prev = p > start ? d[p - 1] : '\0';
            const char *what = prev == '{' ? "looking for beginning of object "
                                             "key string"
                               : (!prev || prev == ':' || prev == '[' ||
                                  prev == ',')
                                   ? "looking for beginning of value"
                                   : "after object key:value pair";
            unsigned char ch = (unsigned char)d[at];
            if (isprint(ch) && ch != '\'')
                snprintf(msg, sizeof msg, "invalid character '%c' %s", ch,
                         what);
            else
                snprintf(msg, sizeof msg, "invalid character '\\x%02x' %s",
                         ch, what);
        }
        reply_error(c, 400, msg);
        return NULL;
    }
    if (!cJSON_IsObject(root)) {
        snprintf(msg, sizeof msg,
                 "json: cannot unmarshal %s into Go value of type api.Request",
                 cJSON_IsArray(root)    ? "array"
                 : cJSON_IsNumber(root) ? "number"
                 : cJSON_IsString(root) ? "string"
                 : cJSON_IsBool(root)   ? "bool"
                                        : "null");
        cJSON_Delete(root);
        /* A JSON null decodes into the zero request in Go. */
        if (!strncmp(d + start, "null", 4))
            return cJSON_CreateObject();
        reply_error(c, 400, msg);
        return NULL;
    }
    return root;
}

static void reply_json(emu_conn *c, int status, cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    emu_http_reply(c, status, "application/json; charset=utf-8", s,
                   strlen(s), 0);
    cJSON_free(s);
    cJSON_Delete(o);
    emu_conn_response_done(c);
}

/* The model a /api/show or /api/pull body names: "model", or "name" when
 * that is absent or empty (the field's older spelling, still accepted by
 * Ollama). */
static const cJSON *model_field(const cJSON *root)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsString(m) || !m->valuestring[0])
        m = cJSON_GetObjectItemCaseSensitive(root, "name");
    return m;
}

/* POST /api/show: ShowResponse in api/types.go's field order (omitempty
 * fields that would be empty are left out). */
void emu_api_show(emu_conn *c)
{
    emu *e = c->inst->emu;
    cJSON *root = emu_api_parse_body(c);
    if (!root)
        return;
    const cJSON *m = model_field(root);
    if (!cJSON_IsString(m) || !m->valuestring[0]) {
        reply_error(c, 400, "model is required");
        cJSON_Delete(root);
        return;
    }
    int mi = emu_model_find(&e->o, m->valuestring);
    if (mi < 0) {
        /* ShowHandler names the model by DisplayShortest: no default
         * host or namespace, and a tag ("x" is "x:latest"). */
        char err[300], shortest[256];
        const char *sn = emu_model_name_short(m->valuestring);
        const char *last = strrchr(sn, '/');
        snprintf(shortest, sizeof shortest, "%.200s%s", sn,
                 strchr(last ? last : sn, ':') ? "" : ":latest");
        emu_model_not_found(err, sizeof err, shortest);
        reply_error(c, 404, err);
        cJSON_Delete(root);
        return;
    }
    const char *name = e->o.models[mi];
    char digest[65], family[128], buf[1024];
    emu_model_digest(name, digest);
    snprintf(family, sizeof family, "%s", name);
    family[strcspn(family, ":")] = '\0';
    cJSON *o = cJSON_CreateObject();
    snprintf(buf, sizeof buf,
             "# Modelfile generated by \"ollama show\"\n"
             "# To build a new Modelfile based on this, replace FROM with:\n"
             "# FROM %s\n\n"
             "FROM /usr/share/ollama/.ollama/models/blobs/sha256-%s\n"
             "TEMPLATE {{ .Prompt }}\n"
             "PARAMETER stop <end_of_turn>\n"
             "PARAMETER temperature 1\n",
             name, digest);
    cJSON_AddStringToObject(o, "modelfile", buf);
    cJSON_AddStringToObject(o, "parameters",
                            "stop                           \"<end_of_turn>\"\n"
                            "temperature                    1");
    cJSON_AddStringToObject(o, "template", "{{ .Prompt }}");
    cJSON_AddItemToObject(o, "details", emu_model_details(name));
    cJSON *mi_json = cJSON_AddObjectToObject(o, "model_info");
    cJSON_AddStringToObject(mi_json, "general.architecture", family);
    cJSON_AddNumberToObject(mi_json, "general.parameter_count", 4300079472.0);
    cJSON_AddNumberToObject(mi_json, "general.file_type", 15);
    snprintf(buf, sizeof buf, "%s.context_length", family);
    cJSON_AddNumberToObject(mi_json, buf, EMU_TRAIN_CTX);
    snprintf(buf, sizeof buf, "%s.embedding_length", family);
    cJSON_AddNumberToObject(mi_json, buf, e->o.embed_dim);
    snprintf(buf, sizeof buf, "%s.block_count", family);
    cJSON_AddNumberToObject(mi_json, buf, 34);
    cJSON *caps = cJSON_AddArrayToObject(o, "capabilities");
    emu_caps_json(caps, e->model_caps[mi]);
    cJSON_AddStringToObject(o, "modified_at", e->started_at);
    cJSON_Delete(root);
    reply_json(c, 200, o);
}

/* POST /api/pull: a served model is "already there": the status lines of
 * an up-to-date pull (ProgressResponse), instantly; another model fails
 * the way a pull from an unreachable registry does. */
void emu_api_pull(emu_conn *c)
{
    emu *e = c->inst->emu;
    cJSON *root = emu_api_parse_body(c);
    if (!root)
        return;
    const cJSON *m = model_field(root);
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(root, "stream");
    int streaming = !cJSON_IsFalse(stream);
    if (!cJSON_IsString(m) || !m->valuestring[0]) {
        reply_error(c, 400, "invalid model name");
        cJSON_Delete(root);
        return;
    }
    int mi = emu_model_find(&e->o, m->valuestring);
    static const char fail[] =
        "pull model manifest: file does not exist";
    if (!streaming) {
        /* waitForStream: the last message, or the error as a 500. */
        if (mi < 0) {
            reply_error(c, 500, fail);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "status", "success");
            reply_json(c, 200, o);
        }
        cJSON_Delete(root);
        return;
    }
    char digest[65], line[512];
    emu_buf body = {0};
    emu_buf_append(&body, "{\"status\":\"pulling manifest\"}\n", 30);
    if (mi < 0) {
        snprintf(line, sizeof line, "{\"error\":\"%s\"}\n", fail);
        emu_buf_append(&body, line, strlen(line));
    } else {
        emu_model_digest(e->o.models[mi], digest);
        long long size = (long long)EMU_MODEL_SIZE;
        snprintf(line, sizeof line,
                 "{\"status\":\"pulling %.12s\",\"digest\":\"sha256:%s\","
                 "\"total\":%lld,\"completed\":%lld}\n",
                 digest, digest, size, size);
        emu_buf_append(&body, line, strlen(line));
        static const char tail[] = "{\"status\":\"verifying sha256 digest\"}\n"
                                   "{\"status\":\"writing manifest\"}\n"
                                   "{\"status\":\"success\"}\n";
        emu_buf_append(&body, tail, sizeof tail - 1);
    }
    emu_api_progress(c, &body);
    emu_buf_free(&body);
    cJSON_Delete(root);
}

void emu_api_progress(emu_conn *c, const emu_buf *body)
{
    /* One chunk per line, like every Ollama stream. */
    emu_buf out = {0};
    emu_http_stream_headers(&out, c, "application/x-ndjson");
    size_t p = 0;
    while (p < body->len) {
        size_t q = p;
        while (body->data[q] != '\n')
            q++;
        emu_stream_chunk(&out, body->data + p, q + 1 - p);
        p = q + 1;
    }
    emu_buf_append(&out, "0\r\n\r\n", 5);
    emu_conn_write(c, out.data, out.len);
    emu_buf_free(&out);
    emu_conn_response_done(c);
}

int emu_api_embed_vector(const emu_req *r, int i, double *v)
{
    emu *e = r->inst->emu;
    int embed = r->api == EMU_API_EMBED;
    /* Deterministic per input text: the same text gives the same vector
     * in any request, on any route; /api/embed's (and /v1/embeddings')
     * are unit length, as Ollama normalises them, and `dimensions` cuts
     * and renormalises them (EmbedHandler). */
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng)
        PB_MEM_OOM();
    gsl_rng_set(rng, (unsigned long)(e->o.seed * 1000003ull +
                                     (r->input_hashes ? r->input_hashes[i]
                                                      : r->input_hash)));
    int n = e->o.embed_dim;
    for (int k = 0; k < n; k++)
        v[k] = gsl_ran_gaussian(rng, 1.0);
    gsl_rng_free(rng);
    if (embed && r->dims > 0 && r->dims < n)
        n = r->dims;
    double norm = 0;
    for (int k = 0; k < n; k++)
        norm += v[k] * v[k];
    norm = sqrt(norm);
    for (int k = 0; k < n; k++)
        v[k] = embed && norm > 0 ? v[k] / norm : v[k] * 0.1;
    return n;
}

void emu_api_embed_body(emu_buf *b, const emu_req *r, uint64_t t_final)
{
    emu *e = r->inst->emu;
    int embed = r->api == EMU_API_EMBED;
    if (embed) {
        emu_buf_printf(b, "{\"model\":%s,\"embeddings\":[", r->model_json);
    } else {
        emu_buf_printf(b, "{\"embedding\":");
    }
    double *v = pb_mem_alloc((size_t)e->o.embed_dim * sizeof *v);
    for (int i = 0; i < r->n_inputs || (!embed && i == 0); i++) {
        if (i)
            emu_buf_append(b, ",", 1);
        emu_buf_append(b, "[", 1);
        if (r->n_inputs) {
            int n = emu_api_embed_vector(r, i, v);
            for (int k = 0; k < n; k++)
                emu_buf_printf(b, k ? ",%.7g" : "%.7g", v[k]);
        }
        emu_buf_append(b, "]", 1);
    }
    free(v);
    if (!embed) {
        emu_buf_append(b, "}", 1);
        return;
    }
    emu_buf_append(b, "]", 1);
    /* EmbedResponse: total, load, prompt_eval_count, all omitempty. */
    long long total = (long long)(t_final - r->t_arrive);
    long long load = (long long)(r->t_ready - r->t_arrive); /* see emu_stream.c */
    if (load < 1)
        load = 1;
    if (total)
        emu_buf_printf(b, ",\"total_duration\":%lld", total);
    if (load)
        emu_buf_printf(b, ",\"load_duration\":%lld", load);
    if (r->prompt_tokens)
        emu_buf_printf(b, ",\"prompt_eval_count\":%d", r->prompt_tokens);
    emu_buf_append(b, "}", 1);
}
