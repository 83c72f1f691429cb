/*
 * lo_recv: a liblo server that counts the messages it dispatches, the
 * receiving peer for aiolo's transport benchmarks.
 *
 * Usage:  lo_recv udp|tcp [late]
 *
 * stdout:
 *   PORT <n>                 once, as soon as the server is listening
 *                            (an OS-chosen ephemeral port)
 *   LATE <seconds>           with "late" only: one line per dispatched
 *                            message that came in a bundle with a real
 *                            timetag; lo_timetag_now() at dispatch minus the
 *                            timetag, "%.9f", negative if liblo ran it early
 *   {"count":N,"first":F,"last":L,"cpu":C}
 *                            in reply to "count": messages dispatched so
 *                            far, CLOCK_MONOTONIC ns of the first and last
 *                            dispatch (0 and 0 before any), and the CPU
 *                            time (user + system) the process has used, in µs
 * stdin, one command per line:
 *   count                    print the JSON line above
 *   reset                    start counting afresh (after a warm-up)
 *   quit                     (or EOF) free the server and exit 0
 * stderr: liblo errors and diagnostics.  Exit 1 if the server can't start,
 * 2 on bad usage.
 *
 * For TCP, liblo 0.31 detects per connection whether the stream is
 * length-prefixed or SLIP, so both framings are accepted.  Its SLIP path is
 * slow, and a full-speed SLIP flood crashes it (SIGSEGV: alloca in a retry
 * loop, liblo issue #177, fixed upstream only in 0.35); paced SLIP works.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <lo/lo.h>

/* How long one idle wait for packets may delay noticing a stdin command. */
#define IDLE_WAIT_MS 5
/* When packets keep coming, stdin is only polled this often, so a flood
 * does not pay a syscall per message for it. */
#define STDIN_EVERY 256

static uint64_t count, first_ns, last_ns;
static int report_lateness;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_error(int num, const char *msg, const char *where)
{
    fprintf(stderr, "lo_recv: liblo error %d: %s (%s)\n", num,
            msg ? msg : "?", where ? where : "-");
}

/* a - b in seconds; the 32.32 halves are differenced separately, as signed
 * 64-bit values, so neither the seconds nor the fraction can wrap. */
static double timetag_minus(lo_timetag a, lo_timetag b)
{
    int64_t dsec = (int64_t)a.sec - (int64_t)b.sec;
    int64_t dfrac = (int64_t)a.frac - (int64_t)b.frac;
    return (double)dsec + (double)dfrac / 4294967296.0;
}

static int on_message(const char *path, const char *types, lo_arg **argv,
                      int argc, lo_message msg, void *user_data)
{
    (void)path, (void)types, (void)argv, (void)argc, (void)user_data;
    lo_timetag wall;
    uint64_t t = now_ns();

    if (report_lateness)
        lo_timetag_now(&wall);
    if (count == 0)
        first_ns = t;
    last_ns = t;
    count++;

    if (report_lateness) {
        lo_timetag tt = lo_message_get_timestamp(msg);
        /* Messages outside a bundle, or in an immediate one, have no
         * due time to be late against. */
        if (!(tt.sec == 0 && tt.frac == 1))
            printf("LATE %.9f\n", timetag_minus(wall, tt));
    }
    return 0;
}

/* liblo 0.31 reports the port it was asked for, so with "0" it says 0;
 * the socket knows the one the OS picked. */
static int bound_port(lo_server s)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = lo_server_get_socket_fd(s);

    if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return lo_server_get_port(s);
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return lo_server_get_port(s);
}

static char line[256];
static size_t line_len;

/* Runs one command; returns 1 if the program should exit. */
static int run_command(char *cmd)
{
    size_t n = strlen(cmd);
    while (n > 0 && (cmd[n - 1] == '\r' || cmd[n - 1] == ' ' || cmd[n - 1] == '\t'))
        cmd[--n] = '\0';

    if (strcmp(cmd, "count") == 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        unsigned long long cpu_us =
            (unsigned long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ULL +
            (unsigned long long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
        printf("{\"count\":%llu,\"first\":%llu,\"last\":%llu,\"cpu\":%llu}\n",
               (unsigned long long)count, (unsigned long long)first_ns,
               (unsigned long long)last_ns, cpu_us);
        return 0;
    }
    if (strcmp(cmd, "reset") == 0) {
        count = 0;
        first_ns = last_ns = 0;
        return 0;
    }
    if (strcmp(cmd, "quit") == 0)
        return 1;
    if (n > 0)
        fprintf(stderr, "lo_recv: unknown command '%s'\n", cmd);
    return 0;
}

/* Handles whatever is waiting on stdin without blocking; returns 1 on quit
 * or EOF. */
static int service_stdin(void)
{
    struct pollfd pfd = { .fd = 0, .events = POLLIN };

    if (poll(&pfd, 1, 0) <= 0)
        return 0;

    char buf[256];
    ssize_t got = read(0, buf, sizeof buf);
    if (got < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : 1;
    if (got == 0)
        return 1;

    for (ssize_t i = 0; i < got; i++) {
        if (buf[i] == '\n') {
            line[line_len] = '\0';
            line_len = 0;
            if (run_command(line))
                return 1;
        } else if (line_len < sizeof line - 1) {
            line[line_len++] = buf[i];
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int proto;

    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "late") != 0)) {
        fprintf(stderr, "usage: lo_recv udp|tcp [late]\n");
        return 2;
    }
    if (strcmp(argv[1], "udp") == 0)
        proto = LO_UDP;
    else if (strcmp(argv[1], "tcp") == 0)
        proto = LO_TCP;
    else {
        fprintf(stderr, "usage: lo_recv udp|tcp [late]\n");
        return 2;
    }
    report_lateness = argc == 3;
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* "0", not NULL: with NULL liblo guesses a random port in 10000-19999
     * itself instead of letting the OS pick a free one. */
    lo_server s = lo_server_new_with_proto("0", proto, on_error);
    if (!s) {
        fprintf(stderr, "lo_recv: cannot create the %s server\n", argv[1]);
        return 1;
    }
    lo_server_add_method(s, NULL, NULL, on_message, NULL);
    printf("PORT %d\n", bound_port(s));

    int timeout = 0;
    unsigned since_stdin = 0;
    for (;;) {
        int n = lo_server_recv_noblock(s, timeout);
        if (n != 0) {
            /* Busy: stay non-blocking.  A zero timeout also matters for
             * TCP, where liblo 0.31 still waits the full timeout in poll()
             * when the next message is already in its own buffer. */
            timeout = 0;
            if (++since_stdin < STDIN_EVERY)
                continue;
        } else {
            timeout = IDLE_WAIT_MS;
        }
        since_stdin = 0;
        if (service_stdin())
            break;
    }

    lo_server_free(s);
    return 0;
}
