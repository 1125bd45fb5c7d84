/* emu_model: model lifecycle and Ollama's scheduler, per instance.
 *
 * Follows server/sched.go:
 *  - getRunner: a request whose model is loaded with the same runner
 *    options (num_ctx, num_batch, num_gpu: needsReload) uses that runner at
 *    once (useLoadedRunner: refCount++, keep-alive timer stopped). Only the
 *    others go to the pending queue, whose bound is OLLAMA_MAX_QUEUE: a full
 *    queue is the 503. Waiting for a decode slot is waiting on the runner's
 *    semaphore (num_parallel per runner) and is not bounded.
 *  - processPending: one pending request at a time. A loaded runner with
 *    other options is expired and, once idle, unloaded; a new model that
 *    does not fit (--vram, OLLAMA_MAX_LOADED_MODELS) first evicts an idle
 *    runner (findRunnerToUnload: shortest keep-alive first), waiting for it
 *    to go idle if none is. Then the model loads (--load seconds) and the
 *    request uses it; requests arriving during the load use it too.
 *  - processCompleted: when a runner's last request finishes, a keep-alive
 *    of 0 unloads it now, otherwise a timer unloads it after keep_alive and
 *    /api/ps shows that instant as expires_at.
 *
 * Also the served models' names: lookup as types/model/name.go compares
 * them, and the digest and details /api/tags and /api/show report.
 *
 * Everything runs on the emulator thread. */
#include "emu_internal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsl/gsl_rng.h>

#include "pb_text.h"
#include "pb_time.h"

static void pending_run(emu_instance *inst);
static void runner_on_expire(emu_sched_item *it, uint64_t now);
static void runner_on_unloaded(emu_sched_item *it, uint64_t now);

void emu_model_init(emu_instance *inst)
{
    for (int i = 0; i < EMU_MAX_MODELS; i++) {
        emu_runner *run = &inst->runner[i];
        memset(run, 0, sizeof *run);
        run->expire.idx = SIZE_MAX;
        run->inst = inst;
        run->model_index = i;
        run->expire.cb = runner_on_expire;
        run->unloaded.idx = SIZE_MAX;
        run->unloaded.cb = runner_on_unloaded;
    }
}

static int64_t default_session(const emu *e)
{
    if (e->o.keep_alive_s < 0)
        return INT64_MAX;
    return (int64_t)emu_scale_ns(e, e->o.keep_alive_s);
}

static void runner_unload(emu_runner *run)
{
    emu *e = run->inst->emu;
    emu_sched_remove(&e->sched, &run->expire);
    run->loaded = 0;
    run->expires_wall_ns = 0;
    emu_pcache_clear(&run->pc); /* the llama-server process is gone */
    /* processCompleted: the runner leaves the loaded list at once (gone
     * from /api/ps), then waitForVRAMRecovery blocks the scheduler until
     * the GPU's free memory has recovered; only then does the unloaded
     * event let processPending load. */
    run->unload_end = uv_hrtime() + emu_scale_ns(e, e->o.unload_s);
    emu_sched_remove(&e->sched, &run->unloaded);
    emu_sched_add(&e->sched, &run->unloaded, run->unload_end);
    if (!e->o.quiet)
        emu_log(e, "instance %d: unloaded %s", run->inst->index,
                e->o.models[run->model_index]);
}

static void runner_on_expire(emu_sched_item *it, uint64_t now)
{
    emu_runner *run = (emu_runner *)it;
    (void)now;
    if (run->loaded && run->refcount <= 0)
        runner_unload(run);
    pending_run(run->inst);
}

static void runner_on_unloaded(emu_sched_item *it, uint64_t now)
{
    emu_runner *run =
        (emu_runner *)((char *)it - offsetof(emu_runner, unloaded));
    (void)now;
    pending_run(run->inst);
}

/* An unload of this instance still waits for its GPU memory. */
static int unloading(const emu_instance *inst)
{
    uint64_t now = uv_hrtime();
    for (int i = 0; i < inst->emu->o.n_models; i++)
        if (inst->runner[i].unloaded.idx != SIZE_MAX &&
            inst->runner[i].unload_end > now)
            return 1;
    return 0;
}

/* The runner's last request finished (processCompleted). */
static void runner_idle(emu_runner *run)
{
    emu *e = run->inst->emu;
    if (run->session_ns <= 0) {
        runner_unload(run);
        return;
    }
    int64_t wall = pb_time_wall_ns();
    if (run->session_ns == INT64_MAX) {
        /* Go's time.Now().Add(math.MaxInt64): ~292 years ahead. */
        run->expires_wall_ns = INT64_MAX;
        (void)wall;
        return;
    }
    run->expires_wall_ns = wall + run->session_ns;
    emu_sched_remove(&e->sched, &run->expire);
    emu_sched_add(&e->sched, &run->expire,
                  uv_hrtime() + (uint64_t)run->session_ns);
}

/* expireRunner / the scheduler's "reset to expire immediately". */
static void runner_expire_now(emu_runner *run)
{
    emu_sched_remove(&run->inst->emu->sched, &run->expire);
    run->session_ns = 0;
    run->expires_wall_ns = pb_time_wall_ns();
    if (run->refcount <= 0 && run->loaded)
        runner_unload(run);
}

void emu_model_expire(emu_instance *inst, int model_index)
{
    emu_runner *run = &inst->runner[model_index];
    if (run->loaded)
        runner_expire_now(run);
    pending_run(inst);
}

/* needsReload: Ollama compares the runner options (api.Runner) the model
 * was loaded with; num_gpu < 0 ("auto") never forces a reload. */
static int needs_reload(const emu_runner *run, const emu_req *r)
{
    if (run->num_ctx != r->num_ctx || run->num_batch != r->num_batch)
        return 1;
    /* The rest of api.Runner, compared as reflect.DeepEqual does: an
     * option given on one side only differs (a nil *int is not 0). */
    if (run->main_gpu != r->main_gpu || run->use_mmap != r->use_mmap ||
        run->num_thread != r->num_thread)
        return 1;
    return r->num_gpu >= 0 && run->num_gpu != r->num_gpu;
}

static void slots_fill(emu_runner *run)
{
    while (run->active < run->inst->emu->o.num_parallel && run->wait_head) {
        emu_req *r = run->wait_head;
        run->wait_head = r->qnext;
        if (!run->wait_head)
            run->wait_tail = NULL;
        r->qnext = NULL;
        run->active++;
        r->in_slot = 1;
        /* Which of llama-server's slots, and how much of the prompt its
         * cache already holds (emu_pcache.c). */
        if (r->pkey.len)
            r->cached_tokens = emu_pcache_take(
                &run->pc, run->inst->emu->o.num_parallel, r->pkey.data,
                r->pkey.len, r->prompt_tokens, &r->slot);
        emu_req_start(r, uv_hrtime());
    }
}

/* useLoadedRunner, then the runner's semaphore. */
static void runner_use(emu_runner *run, emu_req *r)
{
    emu *e = run->inst->emu;
    run->refcount++;
    emu_sched_remove(&e->sched, &run->expire);
    if (r->has_keep_alive)
        run->session_ns = r->keep_alive_ns;
    r->runner = run;
    /* scheduleRunner returns once the runner is loaded; the slot wait
     * comes after, inside Completion. */
    uint64_t now = uv_hrtime();
    r->t_ready = run->load_end > now ? run->load_end : now;
    r->state = EMU_REQ_QUEUED;
    if (run->wait_tail)
        run->wait_tail->qnext = r;
    else
        run->wait_head = r;
    run->wait_tail = r;
    slots_fill(run);
}

static double runner_vram(const emu *e, const emu_req *r)
{
    /* effectiveLlamaServerContext: num_ctx, at most the training context,
     * times the slots. */
    int ctx = r->num_ctx < EMU_TRAIN_CTX ? r->num_ctx : EMU_TRAIN_CTX;
    return EMU_MODEL_SIZE +
           (double)ctx * e->o.num_parallel * EMU_KV_BYTES_PER_TOKEN;
}

/* A runner to unload so that r's model fits, or NULL when it fits (or
 * nothing else is loaded: a model too big for the budget loads anyway, as
 * Ollama then spills layers to the CPU). */
static emu_runner *room_victim(emu_instance *inst, const emu_req *r)
{
    emu *e = inst->emu;
    int max_loaded = e->o.max_loaded > 0 ? e->o.max_loaded : 3;
    int n = 0;
    double used = 0;
    emu_runner *best = NULL;
    for (int i = 0; i < e->o.n_models; i++) {
        emu_runner *run = &inst->runner[i];
        if (!run->loaded || i == r->model_index)
            continue;
        n++;
        used += run->vram_bytes;
        /* findRunnerToUnload: idle first, then the shortest keep-alive. */
        if (!best || (run->refcount <= 0 && best->refcount > 0) ||
            ((run->refcount <= 0) == (best->refcount <= 0) &&
             (uint64_t)run->session_ns < (uint64_t)best->session_ns))
            best = run;
    }
    if (!best)
        return NULL;
    if (n >= max_loaded)
        return best;
    if (e->o.vram_gib > 0 &&
        used + runner_vram(e, r) > e->o.vram_gib * 1073741824.0)
        return best;
    return NULL;
}

static void runner_load(emu_runner *run, emu_req *r)
{
    emu *e = run->inst->emu;
    uint64_t now = uv_hrtime();
    run->loaded = 1;
    run->loads++;
    run->load_end = now + emu_scale_ns(e, e->o.load_s);
    run->num_ctx = r->num_ctx;
    run->num_batch = r->num_batch;
    run->num_gpu = r->num_gpu;
    run->main_gpu = r->main_gpu;
    run->use_mmap = r->use_mmap;
    run->num_thread = r->num_thread;
    run->vram_bytes = runner_vram(e, r);
    run->session_ns = default_session(e);
    run->expires_wall_ns = 0;
    if (!e->o.quiet)
        emu_log(e, "instance %d: loading %s (num_ctx %d)", run->inst->index,
                e->o.models[run->model_index], r->num_ctx);
}

/* processPending: works through the pending queue until it is empty or
 * its head must wait for a runner to go idle. Called whenever that may
 * have changed. */
static void pending_run(emu_instance *inst)
{
    for (;;) {
        if (!inst->pend_cur) {
            emu_req *r = inst->pend_head;
            if (!r)
                return;
            inst->pend_head = r->qnext;
            if (!inst->pend_head)
                inst->pend_tail = NULL;
            r->qnext = NULL;
            inst->n_pending--;
            inst->pend_cur = r;
        }
        emu_req *r = inst->pend_cur;
        emu_runner *run = &inst->runner[r->model_index];
        if (run->loaded) {
            if (!needs_reload(run, r)) {
                inst->pend_cur = NULL;
                runner_use(run, r);
                continue;
            }
            /* Reload: expire the old runner, wait until it is idle. */
            runner_expire_now(run);
            if (run->loaded)
                return;
        }
        /* Nothing loads while an unload waits for its GPU memory
         * (runner_unload); its end runs this again. */
        if (unloading(inst))
            return;
        emu_runner *victim = room_victim(inst, r);
        if (victim) {
            runner_expire_now(victim);
            if (victim->loaded)
                return;
            continue;
        }
        inst->pend_cur = NULL;
        runner_load(run, r);
        runner_use(run, r);
    }
}

int emu_model_submit(emu_req *r)
{
    emu_instance *inst = r->inst;
    emu_runner *run = &inst->runner[r->model_index];
    if (run->loaded && !needs_reload(run, r)) {
        runner_use(run, r);
        return 0;
    }
    /* pendingReqCh is a buffered channel of max_queue: the request that
     * processPending works on is out of it, the rest fill it. */
    if (inst->pend_cur && inst->n_pending >= inst->emu->o.max_queue)
        return -1;
    r->state = EMU_REQ_PENDING;
    if (inst->pend_tail)
        inst->pend_tail->qnext = r;
    else
        inst->pend_head = r;
    inst->pend_tail = r;
    inst->n_pending++;
    pending_run(inst);
    return 0;
}

static void list_remove(emu_req **head, emu_req **tail, emu_req *r)
{
    emu_req *prev = NULL;
    for (emu_req *it = *head; it; prev = it, it = it->qnext) {
        if (it != r)
            continue;
        if (prev)
            prev->qnext = r->qnext;
        else
            *head = r->qnext;
        if (*tail == r)
            *tail = prev;
        r->qnext = NULL;
        return;
    }
}

void emu_model_release(emu_req *r)
{
    emu_instance *inst = r->inst;
    emu_runner *run = r->runner;
    if (!run) {
        if (inst->pend_cur == r) {
            inst->pend_cur = NULL;
        } else {
            list_remove(&inst->pend_head, &inst->pend_tail, r);
            inst->n_pending--;
        }
        pending_run(inst);
        return;
    }
    if (r->decoding)
        emu_model_decode_end(r);
    if (r->in_slot) {
        run->active--;
        r->in_slot = 0;
        if (r->slot >= 0)
            emu_pcache_put(&run->pc, r->slot, r->pkey.data, r->pkey.len,
                           r->prompt_tokens + r->n_sent);
    } else {
        list_remove(&run->wait_head, &run->wait_tail, r);
    }
    r->runner = NULL;
    if (--run->refcount <= 0) {
        run->refcount = 0;
        runner_idle(run);
    }
    if (run->loaded)
        slots_fill(run);
    pending_run(inst);
}

void emu_model_decode_begin(emu_req *r)
{
    emu_runner *run = r->runner;
    r->decoding = 1;
    r->inst->gpu->k++;
    if (run->decoding++ == 0)
        r->inst->gpu->runners++;
}

void emu_model_decode_end(emu_req *r)
{
    emu_runner *run = r->runner;
    r->decoding = 0;
    r->inst->gpu->k--;
    if (--run->decoding == 0)
        r->inst->gpu->runners--;
}

/* --- model names: lookup, digest and details of the served models --- */

void emu_model_digest(const char *name, char out[65])
{
    /* A stable fake sha256 digest per model name (FNV-1a seeds the RNG). */
    uint64_t h = 1469598103934665603ull;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, (unsigned long)h);
    for (int i = 0; i < 64; i++)
        out[i] = "0123456789abcdef"[gsl_rng_uniform_int(r, 16)];
    out[64] = '\0';
    gsl_rng_free(r);
}

/* The default host and namespace of model.ParseName, dropped so that
 * "registry.ollama.ai/library/gemma3" and "gemma3" are one name. */
const char *emu_model_name_short(const char *n)
{
    if (!strncasecmp(n, "registry.ollama.ai/", 19))
        n += 19;
    if (!strncasecmp(n, "library/", 8))
        n += 8;
    return n;
}

int emu_model_find(const emu_options *o, const char *name)
{
    /* types/model/name.go: names compare case-insensitively; a missing
     * tag is "latest". */
    name = emu_model_name_short(name);
    for (int i = 0; i < o->n_models; i++) {
        if (!o->models[i][0])
            continue; /* deleted (emu_manage.c) */
        const char *m = emu_model_name_short(o->models[i]);
        size_t ml = strcspn(m, ":"), nl = strcspn(name, ":");
        if (ml == nl && !strncasecmp(m, name, ml)) {
            const char *mt = m[ml] ? m + ml + 1 : "latest";
            const char *nt = name[nl] ? name + nl + 1 : "latest";
            if (!strcasecmp(mt, nt))
                return i;
        }
    }
    return -1;
}

void emu_model_not_found(char *err, size_t errlen, const char *name)
{
    /* Echo the name as valid UTF-8 (U+FFFD for bad bytes), as Go's JSON
     * decoder would have read it: an error body must stay valid JSON text. */
    char *safe = pb_text_utf8_repair(name, strlen(name), NULL);
    snprintf(err, errlen, "model '%.200s' not found", safe ? safe : "?");
    free(safe);
}

cJSON *emu_model_details(const char *name)
{
    char family[128];
    snprintf(family, sizeof family, "%s", name);
    family[strcspn(family, ":")] = '\0';
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "parent_model", "");
    cJSON_AddStringToObject(d, "format", "gguf");
    cJSON_AddStringToObject(d, "family", family);
    cJSON *fams = cJSON_AddArrayToObject(d, "families");
    cJSON_AddItemToArray(fams, cJSON_CreateString(family));
    cJSON_AddStringToObject(d, "parameter_size", "4.3B");
    cJSON_AddStringToObject(d, "quantization_level", "Q4_K_M");
    return d;
}
