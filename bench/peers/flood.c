/*
 * flood: sends the same pre-encoded packet over and over, with no OSC work
 * at all, so receiver benchmarks measure the receiver and not the sender.
 *
 * Usage:  flood udp|tcp <port> <packet-file> <count> <rate>
 *   port         destination port on 127.0.0.1
 *   packet-file  the bytes to repeat.  For udp, one datagram.  For tcp, one
 *                already framed packet (length-prefixed or SLIP); its bytes
 *                are simply repeated on the stream.
 *   count        how many packets to send
 *   rate         0 = as fast as possible; R > 0 = R packets per second on
 *                average, paced against absolute CLOCK_MONOTONIC time
 *
 * stdin:  unused.
 * stdout: {"sent":N,"errors":E,"seconds":S} — for udp N successful send()
 *         calls and E failed ones (ENOBUFS, ECONNREFUSED, ... ; sending goes
 *         on); for tcp N whole frames written and E the frames not written
 *         because the connection failed.  S is the CLOCK_MONOTONIC duration
 *         from the first send to the last byte written.
 * stderr: diagnostics.  Exit 0 after a run (even with errors), 1 on setup
 * failure, 2 on bad usage.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* TCP at full speed writes whole frames in chunks of up to this size. */
#define CHUNK_BYTES 65536
/* When paced and behind schedule, at most this many packets go out before
 * the clock is read again, so catching up stays smooth. */
#define PACED_BATCH 32
#define MAX_UDP_PAYLOAD 65507

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_until_ns(uint64_t t)
{
    struct timespec ts = { .tv_sec = (time_t)(t / 1000000000u),
                           .tv_nsec = (long)(t % 1000000000u) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: flood udp|tcp <port> <packet-file> <count> <rate>\n");
    exit(2);
}

static unsigned char *read_file(const char *name, size_t *len)
{
    FILE *f = fopen(name, "rb");
    if (!f) {
        fprintf(stderr, "flood: %s: %s\n", name, strerror(errno));
        exit(1);
    }
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fprintf(stderr, "flood: out of memory\n");
            exit(1);
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        buf = realloc(buf, cap);
    }
    if (ferror(f)) {
        fprintf(stderr, "flood: %s: read error\n", name);
        exit(1);
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Writes all of buf unless the connection fails; returns bytes written. */
static size_t write_all(int fd, const unsigned char *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        /* MSG_NOSIGNAL: a receiver that goes away is an error to report,
         * not a reason to die of SIGPIPE. */
        ssize_t w = send(fd, buf + done, len - done, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "flood: send: %s\n", strerror(errno));
            break;
        }
        done += (size_t)w;
    }
    return done;
}

int main(int argc, char **argv)
{
    if (argc != 6)
        usage();
    int tcp;
    if (strcmp(argv[1], "udp") == 0)
        tcp = 0;
    else if (strcmp(argv[1], "tcp") == 0)
        tcp = 1;
    else
        usage();

    char *end;
    errno = 0;
    long port = strtol(argv[2], &end, 10);
    if (errno || *end || port < 1 || port > 65535)
        usage();
    long long count = strtoll(argv[4], &end, 10);
    if (errno || *end || count < 0)
        usage();
    double rate = strtod(argv[5], &end);
    if (errno || *end || !(rate >= 0))
        usage();
    setvbuf(stdout, NULL, _IOLBF, 0);

    size_t plen;
    unsigned char *packet = read_file(argv[3], &plen);
    if (plen == 0 || (!tcp && plen > MAX_UDP_PAYLOAD)) {
        fprintf(stderr, "flood: packet of %zu bytes does not fit a datagram\n", plen);
        return 1;
    }

    int fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    if (fd < 0) {
        fprintf(stderr, "flood: socket: %s\n", strerror(errno));
        return 1;
    }
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "flood: connect: %s\n", strerror(errno));
        return 1;
    }
    if (tcp) {
        /* Paced batches must leave when written, not wait for an ACK. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    /* The default 50 us timer slack would make every paced sleep overshoot;
     * absolute deadlines keep the average right regardless. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

    /* The TCP chunk holds whole frames only, so a chunk boundary never
     * splits a frame and "sent" is exact even if a write fails. */
    size_t per_chunk = plen >= CHUNK_BYTES ? 1 : CHUNK_BYTES / plen;
    unsigned char *chunk = packet;
    if (tcp && per_chunk > 1) {
        chunk = malloc(per_chunk * plen);
        if (!chunk) {
            fprintf(stderr, "flood: out of memory\n");
            return 1;
        }
        for (size_t i = 0; i < per_chunk; i++)
            memcpy(chunk + i * plen, packet, plen);
    }

    long long sent = 0, errors = 0;
    int failed = 0;
    uint64_t t0 = now_ns();

    for (long long done = 0; done < count && !failed;) {
        long long n = count - done;
        if (rate > 0) {
            /* Packet k is due at t0 + k/rate; send everything due by now. */
            uint64_t t = now_ns();
            long long due = (long long)((double)(t - t0) * rate / 1e9) + 1;
            if (due > count)
                due = count;
            if (due <= done) {
                sleep_until_ns(t0 + (uint64_t)((double)done * 1e9 / rate));
                continue;
            }
            n = due - done;
            if (n > PACED_BATCH)
                n = PACED_BATCH;
        }

        if (tcp) {
            if ((unsigned long long)n > per_chunk)
                n = (long long)per_chunk;
            size_t bytes = (size_t)n * plen;
            size_t w = write_all(fd, chunk, bytes);
            sent += (long long)(w / plen);
            if (w < bytes) {
                failed = 1;
                errors = count - sent;
            }
        } else {
            for (long long i = 0; i < n; i++) {
                if (send(fd, packet, plen, 0) < 0)
                    errors++;
                else
                    sent++;
            }
        }
        done += n;
    }
    double seconds = (double)(now_ns() - t0) / 1e9;

    close(fd);
    printf("{\"sent\":%lld,\"errors\":%lld,\"seconds\":%.9f}\n", sent, errors,
           seconds);
    if (chunk != packet)
        free(chunk);
    free(packet);
    return 0;
}
