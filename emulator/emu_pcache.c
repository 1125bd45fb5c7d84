/* emu_pcache: the prompt cache of one runner (one llama-server process).
 *
 * Ollama >= 0.32 runs GGUF models on llama.cpp's llama-server and sends
 * every completion with `cache_prompt: true` and no slot id
 * (llm/llama_server.go); which slot a request gets and how much of its
 * prompt is already in the KV cache is llama-server's choice
 * (tools/server: get_available_slot, server_prompt_cache), modelled here:
 *
 *  1. Among the idle slots holding tokens, the one whose cache shares the
 *     longest prefix with the prompt, if that prefix is more than 10% of
 *     the prompt (--slot-prompt-similarity 0.1, llama-server's default;
 *     Ollama does not pass it).
 *  2. Else the least recently used idle slot.
 *  3. When the slot came from 2, or from 1 but would keep less than half
 *     of its cached tokens (f_keep < 0.5), its state is saved to the
 *     host-memory prompt cache (--cache-ram, 8192 MiB by default) and the
 *     saved prompt that matches best (similarity above the slot's own, and
 *     keeping at least a quarter of the saved prompt) is restored into it.
 *     The oldest saved prompts go when the budget is exceeded (one always
 *     stays); a saved prompt that another one contains is dropped.
 *  4. The common prefix is reused; a prompt entirely in the cache still
 *     evaluates its last token (the logits of the next one are needed).
 *
 * A slot's cache is its prompt followed by what it generated, so the next
 * turn of a conversation (prompt, answer, new message) extends it.
 *
 * The emulator has no tokenizer: prompts are compared as the byte strings
 * emu_req.c builds (role and content of each message, or system and
 * prompt), and the cached share of a prompt's tokens is the shared share
 * of its bytes. Everything is lost when the runner unloads (a new
 * process). */
#include "emu_internal.h"
#include "pb_mem.h"

#include <stdlib.h>
#include <string.h>

/* llama-server's defaults (common/common.h): slot_prompt_similarity 0.1,
 * cache_ram_mib 8192. */
#define PCACHE_SIMILARITY 0.1
#define PCACHE_RAM_BYTES (8192.0 * 1024 * 1024)

static size_t lcp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen, i = 0;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

static char *dup_bytes(const char *p, size_t n)
{
    char *d = pb_mem_alloc(n ? n : 1);
    if (n)
        memcpy(d, p, n);
    return d;
}

void emu_pcache_clear(emu_pcache *pc)
{
    for (int i = 0; i < pc->n_slots; i++)
        free(pc->slots[i].key);
    free(pc->slots);
    for (int i = 0; i < pc->n_ram; i++)
        free(pc->ram[i].key);
    free(pc->ram);
    memset(pc, 0, sizeof *pc);
}

static void ram_remove(emu_pcache *pc, int i)
{
    free(pc->ram[i].key);
    memmove(&pc->ram[i], &pc->ram[i + 1],
            (size_t)(pc->n_ram - i - 1) * sizeof pc->ram[0]);
    pc->n_ram--;
}

/* server_prompt_cache::alloc: the slot's state goes to host memory unless
 * a saved prompt already contains it; saved prompts it contains go. */
static void ram_save(emu_pcache *pc, const emu_pcache_slot *s)
{
    if (!s->len)
        return;
    for (int i = 0; i < pc->n_ram;) {
        emu_pcache_ent *en = &pc->ram[i];
        size_t n = lcp(en->key, en->len, s->key, s->len);
        if (n == s->len)
            return;
        if (n == en->len)
            ram_remove(pc, i);
        else
            i++;
    }
    if (pc->n_ram == pc->cap_ram) {
        pc->cap_ram = pc->cap_ram ? 2 * pc->cap_ram : 8;
        pc->ram = pb_mem_realloc(pc->ram, (size_t)pc->cap_ram * sizeof pc->ram[0]);
    }
    emu_pcache_ent *en = &pc->ram[pc->n_ram++];
    en->key = dup_bytes(s->key, s->len);
    en->len = s->len;
    en->tokens = s->tokens;
}

/* server_prompt_cache::update: drop the oldest beyond the budget. */
static void ram_trim(emu_pcache *pc)
{
    double bytes = 0;
    for (int i = 0; i < pc->n_ram; i++)
        bytes += pc->ram[i].tokens * EMU_KV_BYTES_PER_TOKEN;
    while (pc->n_ram > 1 && bytes > PCACHE_RAM_BYTES) {
        bytes -= pc->ram[0].tokens * EMU_KV_BYTES_PER_TOKEN;
        ram_remove(pc, 0);
    }
}

/* server_prompt_cache::load: swap in the saved prompt that beats the
 * slot's own cache for this prompt. */
static void ram_load(emu_pcache *pc, emu_pcache_slot *s, const char *key,
                     size_t len)
{
    size_t base = lcp(s->key, s->len, key, len);
    double f_keep_best = s->len ? (double)base / s->len : 0;
    double sim_best = (double)base / len;
    int best = -1;
    for (int i = 0; i < pc->n_ram; i++) {
        const emu_pcache_ent *en = &pc->ram[i];
        size_t n = lcp(en->key, en->len, key, len);
        double f_keep = (double)n / en->len, sim = (double)n / len;
        /* "don't trash large prompts" */
        if (f_keep < 0.25)
            continue;
        if (f_keep_best < f_keep && sim_best < sim) {
            f_keep_best = f_keep;
            sim_best = sim;
            best = i;
        }
    }
    if (best < 0)
        return;
    free(s->key);
    s->key = pc->ram[best].key;
    s->len = pc->ram[best].len;
    s->tokens = pc->ram[best].tokens;
    pc->ram[best].key = NULL;
    ram_remove(pc, best);
}

int emu_pcache_take(emu_pcache *pc, int n_slots, const char *key, size_t len,
                    int prompt_tokens, int *slot)
{
    if (!pc->slots) {
        pc->slots = pb_mem_calloc((size_t)n_slots, sizeof pc->slots[0]);
        pc->n_slots = n_slots;
    }
    /* 1. the most similar idle slot above the threshold */
    emu_pcache_slot *ret = NULL;
    double sim_best = 0;
    size_t ret_lcp = 0;
    for (int i = 0; i < pc->n_slots; i++) {
        emu_pcache_slot *s = &pc->slots[i];
        if (s->busy || !s->len || !len)
            continue;
        size_t n = lcp(s->key, s->len, key, len);
        double sim = (double)n / len;
        if (sim > sim_best && sim > PCACHE_SIMILARITY) {
            sim_best = sim;
            ret = s;
            ret_lcp = n;
        }
    }
    int update = ret && (double)ret_lcp / ret->len < 0.5;
    /* 2. else the least recently used idle slot (never used first) */
    if (!ret) {
        for (int i = 0; i < pc->n_slots; i++) {
            emu_pcache_slot *s = &pc->slots[i];
            if (!s->busy && (!ret || s->last_used < ret->last_used))
                ret = s;
        }
        update = 1;
    }
    if (!ret) /* more requests than slots: emu_model.c never does this */
        abort();
    /* 3. through host memory */
    if (update && len) {
        ram_save(pc, ret);
        ram_load(pc, ret, key, len);
        ram_trim(pc);
    }
    ret->busy = 1;
    *slot = (int)(ret - pc->slots);
    /* 4. reuse the common prefix, evaluate at least one token */
    size_t n = len ? lcp(ret->key, ret->len, key, len) : 0;
    if (!n || prompt_tokens <= 0)
        return 0;
    int cached = (int)((double)prompt_tokens * n / len);
    return cached >= prompt_tokens ? prompt_tokens - 1 : cached;
}

void emu_pcache_put(emu_pcache *pc, int slot, const char *key, size_t len,
                    int tokens)
{
    if (!pc->slots || slot < 0 || slot >= pc->n_slots)
        return;
    emu_pcache_slot *s = &pc->slots[slot];
    s->busy = 0;
    s->last_used = ++pc->clock;
    free(s->key);
    s->key = dup_bytes(key, len);
    s->len = len;
    s->tokens = tokens;
}
