/* exec_map: the recording proxy's records of one exec phase, each mapped to
 * the job agent that sent it (see exec_map.h). The rules, in order:
 *   - a request to a route no dialect streams (GET /api/tags, /api/show,
 *     ...) is no agent's LLM call: set aside, the run stays valid;
 *   - the X-Parbench-Request id the job gave an agent names it; an id no
 *     agent of the phase has is set aside;
 *   - else the requests without an id at an endpoint go to the job's
 *     agents there in order (one agent there: all of them, its steps);
 *   - a request whose model is not its agent's (Ollama's "m" = "m:latest"),
 *     or one more than its agent sends (one; a workflow: its llm steps), is
 *     set aside.
 * An LLM request set aside, or an agent with no request, makes the run
 * invalid: what was measured is not the plan's work. */
#include "exec_map.h"
#include "pb_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int same_model(const char *a, const char *b)
{
    size_t la = strcspn(a, ":"), lb = strcspn(b, ":");
    const char *ta = a[la] ? a + la + 1 : "latest", *tb = b[lb] ? b + lb + 1 : "latest";
    return la == lb && strncmp(a, b, la) == 0 && strcmp(ta, tb) == 0;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void set(cJSON *o, const char *k, cJSON *v)
{
    if (cJSON_HasObjectItem(o, k))
        cJSON_ReplaceItemInObjectCaseSensitive(o, k, v);
    else
        cJSON_AddItemToObject(o, k, v);
}

static void set_invalid(char **invalid, const char *msg)
{
    if (*invalid)
        return;
    *invalid = strdup(msg);
    if (!*invalid)
        PB_MEM_OOM();
}

void pb_exec_map(cJSON *records, const pb_exec_agent_ref *ag, int n, const char *const *labels,
                 int n_endpoints, cJSON **mine, cJSON **other, char **invalid)
{
    *mine = cJSON_CreateArray();
    *other = cJSON_CreateArray();
    *invalid = NULL;
    int *got = calloc((size_t)n + 1, sizeof *got);           /* requests per agent */
    int *by_order = calloc((size_t)n_endpoints + 1, sizeof *by_order); /* id-less per endpoint */
    if (!got || !by_order)
        PB_MEM_OOM();
    cJSON *q;
    while (records && (q = cJSON_DetachItemFromArray(records, 0))) {
        char why[600];
        why[0] = '\0';
        const char *rid = str(q, "request_id"), *ep = str(q, "endpoint"), *model = str(q, "model");
        const char *method = str(q, "method"), *path = str(q, "url_path");
        const cJSON *sent = cJSON_GetObjectItemCaseSensitive(q, "request_id_sent");
        int j = -1, who = -1, llm = str(q, "dialect") != NULL;
        for (int i = 0; i < n_endpoints && ep; i++)
            if (strcmp(ep, labels[i]) == 0)
                j = i;
        if (!llm) {
            snprintf(why, sizeof why, "not an LLM call parbench reads (%s %s): no agent's",
                     method ? method : "?", path ? path : "?");
        } else if (cJSON_IsTrue(sent)) {
            for (int i = 0; i < n && who < 0; i++)
                if (ag[i].request_id && rid && strcmp(rid, ag[i].request_id) == 0)
                    who = i;
            if (who < 0)
                snprintf(why, sizeof why, "X-Parbench-Request %s is no agent's of this phase",
                         rid ? rid : "?");
        } else if (j >= 0) {
            int alone = -1, count = 0;
            for (int i = 0; i < n; i++)
                if (ag[i].endpoint == j)
                    alone = count++ == 0 ? i : -1;
            if (alone >= 0) {
                who = alone;
            } else {
                int nth = by_order[j]++;
                for (int i = 0; i < n && who < 0; i++)
                    if (ag[i].endpoint == j && nth-- == 0)
                        who = i;
                if (who < 0)
                    snprintf(why, sizeof why, "a request without X-Parbench-Request beyond the "
                             "job's %d agents at %s", count, ep);
            }
        }
        if (who >= 0 && model && ag[who].model && !same_model(model, ag[who].model)) {
            snprintf(why, sizeof why, "%s %s asks for model %s, but agent %s's is %s",
                     method ? method : "?", path ? path : "?", model, ag[who].id, ag[who].model);
            who = -1;
        }
        if (who >= 0) {
            int k = got[who], max = ag[who].n_llm > 0 ? ag[who].n_llm : 1;
            if (k >= max) {
                /* Typically a program that ignores its job and runs all its
                 * own agents in every phase. */
                snprintf(why, sizeof why, "request %d of agent %s, which sends %d; a program that sends "
                         "more requests than its job asks for (one that runs its own agents whatever "
                         "the job says) needs \"solo\": \"replay\"", k + 1, ag[who].id, max);
                who = -1;
            } else {
                got[who]++;
                set(q, "agent", cJSON_CreateString(ag[who].id));
                if (ag[who].n_llm > 0)
                    set(q, "step", cJSON_CreateNumber(ag[who].llm_step[k]));
                cJSON_AddItemToArray(*mine, q);
                continue;
            }
        }
        if (!why[0])
            snprintf(why, sizeof why, "from an endpoint that is none of the plan's");
        set(q, "agent", cJSON_CreateNull());
        cJSON_AddStringToObject(q, "stray", why);
        cJSON_AddItemToArray(*other, q);
        if (llm) {
            char msg[700];
            snprintf(msg, sizeof msg, "a request that is no agent's: %s", why);
            set_invalid(invalid, msg);
        }
    }
    for (int i = 0; i < n; i++)
        if (got[i] == 0) {
            char msg[400];
            snprintf(msg, sizeof msg, "agent %s sent no request through its endpoint URL (did it "
                     "connect elsewhere?)", ag[i].id);
            set_invalid(invalid, msg);
            break;
        }
    free(got);
    free(by_order);
}
