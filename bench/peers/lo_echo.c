/*
 * lo_echo: liblo's side of the round-trip latency benchmark (bench/latency.ts).
 *
 * Usage:  lo_echo server udp|tcp
 *         lo_echo client <osc.udp://host:port/ | osc.tcp://...> <warmup> <count> <timeout_ms>
 *
 * server: a liblo server on an ephemeral loopback port that answers every
 *   message with a new lo_message of the same path and args, sent with
 *   lo_send_message_from() to lo_message_get_source() (over UDP from the
 *   server's own port, over TCP on the same connection; see
 *   set_nodelay_on_accepted()).
 *   stdout: "PORT <n>" once listening; stdin: "quit" or EOF exits 0.
 * client: a liblo server of its own (so that replies come back to it) sends
 *   /synth/1/freq ,ifs <seq> 0.5 "sine" with lo_send_from(), waits for the
 *   reply whose int is <seq>, and only then sends the next; <warmup> round
 *   trips first, then <count> timed with CLOCK_MONOTONIC.  A round trip with
 *   no reply in <timeout_ms> is counted as lost.
 *   stdout: {"lost":L,"samples":[ns,...]} once, then exit 0.
 * Exit 1 if a server can't start or a send fails, 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lo/lo.h>

#define PATH "/synth/1/freq"
/* How long an idle server waits for packets before it looks at stdin. */
#define IDLE_WAIT_MS 5

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_error(int num, const char *msg, const char *where)
{
    fprintf(stderr, "lo_echo: liblo error %d: %s (%s)\n", num,
            msg ? msg : "?", where ? where : "-");
}

/* liblo 0.31 sends a TCP message as two writes (length, then body) and sets
 * TCP_NODELAY only on connections it makes (lo_address_set_tcp_nodelay), not
 * on those its server accepts, and lo_message_get_source()'s address does
 * not apply it: each reply's body would wait for the client's delayed ACK
 * (Nagle), some 40 ms.  Since liblo does not expose accepted sockets, the
 * server sets TCP_NODELAY on every TCP socket it has, once, at the first
 * message (the benchmark's client makes one connection). */
static int nodelay_set;

static void set_nodelay_on_accepted(void)
{
    for (int fd = 3; fd < 1024; fd++) {
        int type = 0, one = 1;
        socklen_t len = sizeof type;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM)
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    nodelay_set = 1;
}

static int echo(const char *path, const char *types, lo_arg **argv, int argc,
                lo_message msg, void *user_data)
{
    lo_server server = user_data;
    lo_address source = lo_message_get_source(msg);
    if (!nodelay_set) set_nodelay_on_accepted();
    lo_message reply = lo_message_new();
    for (int i = 0; i < argc; i++) {
        switch (types[i]) {
        case 'i': lo_message_add_int32(reply, argv[i]->i); break;
        case 'f': lo_message_add_float(reply, argv[i]->f); break;
        case 's': lo_message_add_string(reply, &argv[i]->s); break;
        default: break; /* the benchmark sends ,ifs only */
        }
    }
    if (lo_send_message_from(source, server, path, reply) < 0)
        fprintf(stderr, "lo_echo: reply failed: %s\n", lo_address_errstr(source));
    lo_message_free(reply);
    return 0;
}

static int stdin_says_quit(void)
{
    struct pollfd p = { .fd = 0, .events = POLLIN };
    if (poll(&p, 1, 0) <= 0) return 0;
    char line[64];
    if (fgets(line, sizeof line, stdin) == NULL) return 1; /* EOF */
    return strncmp(line, "quit", 4) == 0;
}

static int run_server(const char *proto_name)
{
    int proto = strcmp(proto_name, "tcp") == 0 ? LO_TCP : LO_UDP;
    lo_server server = lo_server_new_with_proto(NULL, proto, on_error);
    if (server == NULL) return 1;
    lo_server_add_method(server, NULL, NULL, echo, server);
    printf("PORT %d\n", lo_server_get_port(server));
    fflush(stdout);
    for (;;) {
        /* stdin is looked at only when no packet came for IDLE_WAIT_MS, so
         * a round trip never pays a syscall for it */
        if (lo_server_recv_noblock(server, IDLE_WAIT_MS) == 0 && stdin_says_quit()) break;
    }
    lo_server_free(server);
    return 0;
}

static int32_t expected;
static int answered;

static int on_reply(const char *path, const char *types, lo_arg **argv,
                    int argc, lo_message msg, void *user_data)
{
    (void)path; (void)msg; (void)user_data;
    if (argc >= 1 && types[0] == 'i' && argv[0]->i == expected) answered = 1;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int run_client(const char *url, long warmup, long count, long timeout_ms)
{
    int proto = lo_url_get_protocol_id(url);
    lo_server server = lo_server_new_with_proto(NULL, proto, on_error);
    lo_address target = lo_address_new_from_url(url);
    if (server == NULL || target == NULL) return 1;
    lo_address_set_tcp_nodelay(target, 1);
    lo_server_add_method(server, PATH, "ifs", on_reply, NULL);
    uint64_t *samples = malloc(sizeof *samples * (size_t)(count > 0 ? count : 1));
    long kept = 0, lost = 0;
    for (long n = 0; n < warmup + count; n++) {
        expected = (int32_t)n;
        answered = 0;
        uint64_t start = now_ns();
        uint64_t deadline = start + (uint64_t)timeout_ms * 1000000u;
        if (lo_send_from(target, server, LO_TT_IMMEDIATE, PATH, "ifs", expected, 0.5f, "sine") < 0) {
            fprintf(stderr, "lo_echo: send failed: %s\n", lo_address_errstr(target));
            return 1;
        }
        uint64_t t = start;
        while (!answered && t < deadline) {
            lo_server_recv_noblock(server, (int)((deadline - t) / 1000000u) + 1);
            t = now_ns();
        }
        if (n < warmup) continue;
        if (answered) samples[kept++] = t - start;
        else lost++;
    }
    qsort(samples, (size_t)kept, sizeof *samples, cmp_u64);
    printf("{\"lost\":%ld,\"samples\":[", lost);
    for (long i = 0; i < kept; i++) printf(i ? ",%llu" : "%llu", (unsigned long long)samples[i]);
    printf("]}\n");
    free(samples);
    lo_address_free(target);
    lo_server_free(server);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "server") == 0) return run_server(argv[2]);
    if (argc == 6 && strcmp(argv[1], "client") == 0)
        return run_client(argv[2], atol(argv[3]), atol(argv[4]), atol(argv[5]));
    fprintf(stderr, "usage: lo_echo server udp|tcp\n"
                    "       lo_echo client <url> <warmup> <count> <timeout_ms>\n");
    return 2;
}
