/* libFuzzer target: the emulator's HTTP request handling (http_parser
 * callbacks, routing, request validation) through a real socket. One
 * emulator runs for the whole session, time-scaled so a stream takes
 * microseconds; each input is one connection's bytes, after which the
 * client half-closes and reads until the server closes. A sanitizer report
 * on the emulator's thread aborts the process, and libFuzzer names the
 * input. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "emu.h"

static int g_port;

static void start_once(void)
{
    emu_options o;
    emu_options_init(&o);
    o.port[0] = 0;
    o.quiet = 1;
    o.time_scale = 1e6;
    o.header_timeout_s = 1;
    o.n_models = 2;
    strcpy(o.models[1], "other:1b");
    char err[512];
    emu_t *e = emu_start(&o, err, sizeof err);
    if (!e) {
        fprintf(stderr, "fuzz_emu_http: %s\n", err);
        abort();
    }
    g_port = emu_port(e, 0);
    /* Runs until the process exits (libFuzzer ends it). */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_port)
        start_once();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)g_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return 0;
    }
    for (size_t off = 0; off < size;) {
        ssize_t w = send(fd, data + off, size - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    /* Read until the server closes (a stream ends in microseconds). */
    char buf[65536];
    for (int rounds = 0; rounds < 200; rounds++) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            break;
    }
    close(fd);
    return 0;
}
