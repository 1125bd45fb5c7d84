/* The built-in `tr115-workflow` plan: the study's next round, where each
 * agent ran a local ingest step (~0.03 s), an "analysis" model call and a
 * "report" model call (~57 s per agent). Built from the `tr115` plan so the
 * two share agents, endpoints, configs and the analysis prompts (verbatim
 * from the study); the ingest duration is the study's, the report prompt is
 * parbench's own (the study's later prompts are not in its data). */
#include "pb_mem.h"
#include "plan.h"

#include <stdlib.h>
#include <string.h>

static const char report_prompt[] =
    "Write a short report for an engineering lead from the analysis below: "
    "a title, three findings with the numbers that support them, and one "
    "recommended next step.\n\nAnalysis:\n" PB_PREVIOUS_MARK;

char *pb_plan_tr115_workflow_json(void)
{
    cJSON *root = cJSON_Parse(pb_plan_tr115_json);
    if (!root)
        abort(); /* the built-in plan is a constant */
    cJSON_ReplaceItemInObjectCaseSensitive(root, "name", cJSON_CreateString("tr115-workflow"));
    cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(root, "agents")) {
        cJSON *prompt = cJSON_DetachItemFromObjectCaseSensitive(a, "prompt");
        cJSON *steps = cJSON_AddArrayToObject(a, "steps");
        /* Ingest: reading local files is CPU work of the agent's own. */
        cJSON *ingest = cJSON_CreateObject();
        cJSON *w = cJSON_AddObjectToObject(ingest, "work");
        cJSON_AddNumberToObject(w, "seconds", 0.03);
        cJSON_AddBoolToObject(w, "cpu", 1);
        cJSON_AddItemToArray(steps, ingest);
        cJSON *analysis = cJSON_CreateObject();
        cJSON_AddItemToObject(cJSON_AddObjectToObject(analysis, "llm"), "prompt", prompt);
        cJSON_AddItemToArray(steps, analysis);
        cJSON *report = cJSON_CreateObject();
        cJSON_AddStringToObject(cJSON_AddObjectToObject(report, "llm"), "prompt", report_prompt);
        cJSON_AddItemToArray(steps, report);
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s)
        PB_MEM_OOM();
    return s;
}
