/* emu_caps: what each served model can do, as Ollama reports it.
 *
 * Ollama derives a model's capabilities from its GGUF file, template and
 * parser (server/images.go, Model.Capabilities; the names are those of
 * types/model/capability.go). The emulator has no files, so it keeps a
 * table of the library models agents use, keyed by the model part of the
 * name (no host, namespace or tag), with the capabilities `ollama show`
 * lists for them. A model not in the table can only complete text. */
#include "emu_internal.h"

#include <ctype.h>
#include <string.h>

#include <cjson/cJSON.h>

static const struct {
    const char *family;
    unsigned caps;
} known[] = {
    {"gemma3", EMU_CAP_COMPLETION | EMU_CAP_VISION},
    {"gemma2", EMU_CAP_COMPLETION},
    {"qwen3", EMU_CAP_COMPLETION | EMU_CAP_TOOLS | EMU_CAP_THINKING},
    {"qwen3-coder", EMU_CAP_COMPLETION | EMU_CAP_TOOLS},
    {"qwen2.5", EMU_CAP_COMPLETION | EMU_CAP_TOOLS},
    {"qwen2.5-coder", EMU_CAP_COMPLETION | EMU_CAP_TOOLS | EMU_CAP_INSERT},
    {"llama3.1", EMU_CAP_COMPLETION | EMU_CAP_TOOLS},
    {"llama3.2", EMU_CAP_COMPLETION | EMU_CAP_TOOLS},
    {"llama3.2-vision", EMU_CAP_COMPLETION | EMU_CAP_VISION},
    {"mistral", EMU_CAP_COMPLETION | EMU_CAP_TOOLS},
    {"deepseek-r1", EMU_CAP_COMPLETION | EMU_CAP_TOOLS | EMU_CAP_THINKING},
    {"gpt-oss", EMU_CAP_COMPLETION | EMU_CAP_TOOLS | EMU_CAP_THINKING},
    {"nomic-embed-text", EMU_CAP_EMBEDDING},
    {"mxbai-embed-large", EMU_CAP_EMBEDDING},
    {"all-minilm", EMU_CAP_EMBEDDING},
    {"embeddinggemma", EMU_CAP_EMBEDDING},
};

unsigned emu_caps_of(const char *name)
{
    /* [host/][namespace/]model[:tag] -> model, lower case (model names are
     * case-insensitive in Ollama, types/model/name.go). */
    const char *slash = strrchr(name, '/');
    const char *m = slash ? slash + 1 : name;
    size_t n = strcspn(m, ":");
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        const char *f = known[i].family;
        if (strlen(f) != n)
            continue;
        size_t k = 0;
        while (k < n && tolower((unsigned char)m[k]) == f[k])
            k++;
        if (k == n)
            return known[i].caps;
    }
    return EMU_CAP_COMPLETION;
}

void emu_caps_json(cJSON *arr, unsigned caps)
{
    /* The order Model.Capabilities builds them in: the kind of model from
     * the GGUF file, its vision projector, then what the template and the
     * parser add ("completion","tools","thinking" for qwen3). */
    static const struct {
        unsigned bit;
        const char *name;
    } order[] = {
        {EMU_CAP_COMPLETION, "completion"}, {EMU_CAP_EMBEDDING, "embedding"},
        {EMU_CAP_VISION, "vision"},         {EMU_CAP_TOOLS, "tools"},
        {EMU_CAP_INSERT, "insert"},         {EMU_CAP_THINKING, "thinking"},
    };
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        if (caps & order[i].bit)
            cJSON_AddItemToArray(arr, cJSON_CreateString(order[i].name));
}
