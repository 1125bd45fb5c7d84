/* plan_servers: the servers a plan asks collect to run (plan key "servers",
 * --server CMD), the settings a config gives them ("server_env",
 * --server-env KEY=V1,V2), and agents' "server:NAME" endpoints.
 *
 * Only the description lives here; server_proc.c starts and stops the
 * processes. Templates in a command or env value: {host} / {port} (the
 * server's first port, chosen free by collect), {hostK} / {portK} for its
 * K-th port (K < PB_SERVER_MAX_PORTS). */
#ifndef PB_PLAN_SERVERS_H
#define PB_PLAN_SERVERS_H

#include <stddef.h>
#include <cjson/cJSON.h>

#define PB_SERVER_MAX 16
#define PB_SERVER_MAX_PORTS 16
#define PB_SERVER_PREFIX "server:"

typedef struct pb_server_spec {
    char *name;
    int argc;
    char **argv;          /* templates, NULL-terminated */
    cJSON *env;           /* object KEY -> string template (never NULL) */
    double ready_timeout_s;
    double stop_grace_s;
    int n_ports;          /* highest {portK}/{hostK} + 1 */
    int strip_ollama_env; /* 1: the child gets no inherited OLLAMA_* (--emulate) */
} pb_server_spec;

/* Parses the plan's "servers" object into *out (n set). Returns 0, or -1
 * with err naming the key. */
int pb_servers_parse(const cJSON *servers, const char *origin, pb_server_spec **out, int *n,
                     char *err, size_t errlen);
/* Fills the ports count and, when neither command nor env names a port,
 * adds OLLAMA_HOST={host} (how Ollama is told where to listen). Returns 0
 * or -1 (err: an unknown or out-of-range template). */
int pb_server_spec_finish(pb_server_spec *s, char *err, size_t errlen);
void pb_server_spec_free(pb_server_spec *s);
/* The spec as plan JSON: {"command": [...], "env": {...}, ...}. */
cJSON *pb_server_spec_json(const pb_server_spec *s);

/* Splits a --server command line into words as a shell would (quotes,
 * backslashes, $VAR; no command substitution, pipes or redirections), with
 * {host}/{port} templates kept. Returns a cJSON array of strings, or NULL
 * with err set. */
cJSON *pb_server_split(const char *cmd, char *err, size_t errlen);

/* "server:NAME" -> NAME, else NULL. */
const char *pb_server_ref(const char *endpoint);

/* A config's server_env as checked JSON: an object of KEY -> string
 * (numbers and booleans become strings); NULL with err on anything else. */
cJSON *pb_server_env_parse(const cJSON *v, const char *where, char *err, size_t errlen);

/* --server-env KEY=V1,V2 lists (n of them) as the configs they make: a
 * JSON array of {"name": "KEY=V1+KEY2=W1", "server_env": {...}}, the
 * product of the values in the order given. NULL with err on a bad list. */
cJSON *pb_server_env_configs(const char *const *lists, int n, char *err, size_t errlen);

/* 1 when a variable's name looks like it holds a secret (its value is then
 * masked in every record). */
int pb_server_env_secret(const char *name);
/* A copy of an env object with those values masked ("***"). */
cJSON *pb_server_env_masked(const cJSON *env);

#endif
