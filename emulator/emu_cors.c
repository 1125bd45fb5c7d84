/* emu_cors: the CORS layer in front of every Ollama route
 * (server/routes.go GenerateRoutes: gin-contrib/cors v1.7.2 with
 * DefaultConfig, AllowWildcard, AllowBrowserExtensions, Ollama's
 * AllowHeaders and envconfig.AllowedOrigins without OLLAMA_ORIGINS).
 *
 * A request without Origin, or whose Origin is the server itself
 * (http(s)://Host), is not a CORS request. An origin not allowed gets 403
 * with an empty body; an allowed preflight (OPTIONS) 204 with the
 * preflight headers; any other allowed request goes on and its answer
 * carries Access-Control-Allow-Origin and Vary: Origin. */
#include "emu_internal.h"

#include <stdio.h>
#include <string.h>

/* envconfig.AllowedOrigins: exact origins, and prefixes ("...:*"). */
static const char *const exact[] = {
    "http://localhost", "https://localhost", "http://127.0.0.1",
    "https://127.0.0.1", "http://0.0.0.0", "https://0.0.0.0",
};
static const char *const prefixes[] = {
    "http://localhost:", "https://localhost:", "http://127.0.0.1:",
    "https://127.0.0.1:", "http://0.0.0.0:", "https://0.0.0.0:",
    "app://", "file://", "tauri://", "vscode-webview://", "vscode-file://",
};

static int origin_allowed(const char *o)
{
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
        if (!strcmp(o, exact[i]))
            return 1;
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (!strncmp(o, prefixes[i], strlen(prefixes[i])))
            return 1;
    return 0;
}

int emu_cors_check(emu_conn *c, int method)
{
    c->cors_header[0] = '\0';
    const char *o = c->origin;
    if (!o[0])
        return 0; /* not a CORS request */
    char self[300];
    snprintf(self, sizeof self, "http://%s", c->host);
    if (c->host[0] && (!strcmp(o, self) ||
                       (!strncmp(o, "https://", 8) && !strcmp(o + 8, c->host))))
        return 0; /* same origin (fetch from the server's own page) */
    if (!origin_allowed(o)) {
        emu_http_reply_headers(c, 403, "Content-Length: 0\r\n");
        emu_conn_response_done(c);
        return 1;
    }
    if (method == HTTP_OPTIONS) {
        /* generatePreflightHeaders: methods upper-cased, headers in
         * canonical form, joined by ","; max age 12 h. */
        char h[1400];
        snprintf(h, sizeof h,
                 "Access-Control-Allow-Headers: Authorization,Content-Type,"
                 "User-Agent,Accept,X-Requested-With,Openai-Beta,"
                 "X-Stainless-Arch,X-Stainless-Async,"
                 "X-Stainless-Custom-Poll-Interval,X-Stainless-Helper-Method,"
                 "X-Stainless-Lang,X-Stainless-Os,"
                 "X-Stainless-Package-Version,X-Stainless-Poll-Helper,"
                 "X-Stainless-Retry-Count,X-Stainless-Runtime,"
                 "X-Stainless-Runtime-Version,X-Stainless-Timeout\r\n"
                 "Access-Control-Allow-Methods: GET,POST,PUT,PATCH,DELETE,"
                 "HEAD,OPTIONS\r\n"
                 "Access-Control-Allow-Origin: %s\r\n"
                 "Access-Control-Max-Age: 43200\r\n"
                 "Vary: Origin\r\nVary: Access-Control-Request-Method\r\n"
                 "Vary: Access-Control-Request-Headers\r\n",
                 o);
        emu_http_reply_headers(c, 204, h);
        emu_conn_response_done(c);
        return 1;
    }
    snprintf(c->cors_header, sizeof c->cors_header,
             "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n", o);
    return 0;
}
