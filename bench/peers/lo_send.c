/*
 * lo_send: liblo as the sending peer for aiolo's transport benchmarks.
 *
 * Usage:  lo_send <url> <count> [slip]
 *   url    osc.udp://127.0.0.1:<port> or osc.tcp://127.0.0.1:<port>
 *   count  how many times to send the small message
 *          (/synth/1/freq ,ifs 440 0.5 "sine"), back to back
 *   slip   TCP only: frame with SLIP instead of a length prefix
 *
 * stdin:  unused.
 * stdout: {"sent":N,"errors":E,"seconds":S}  — N successful lo_send_message
 *         calls, E failed ones, S the CLOCK_MONOTONIC duration of the send
 *         loop.  liblo's TCP send is a blocking send(), so when the loop ends
 *         every byte has been handed to the kernel.
 * stderr: diagnostics.  Exit 0 after a run (even with errors), 1 if the
 * address can't be set up, 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lo/lo.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "slip") != 0)) {
        fprintf(stderr, "usage: lo_send <url> <count> [slip]\n");
        return 2;
    }
    char *end;
    errno = 0;
    long long count = strtoll(argv[2], &end, 10);
    if (errno || *end || count < 0) {
        fprintf(stderr, "lo_send: bad count '%s'\n", argv[2]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    lo_address addr = lo_address_new_from_url(argv[1]);
    if (!addr) {
        fprintf(stderr, "lo_send: bad url '%s'\n", argv[1]);
        return 1;
    }
    if (argc == 4) {
        if (lo_address_get_protocol(addr) != LO_TCP) {
            fprintf(stderr, "lo_send: slip needs an osc.tcp:// url\n");
            return 2;
        }
        lo_address_set_stream_slip(addr, 1);
    }

    lo_message msg = lo_message_new();
    lo_message_add_int32(msg, 440);
    lo_message_add_float(msg, 0.5f);
    lo_message_add_string(msg, "sine");

    long long sent = 0, errors = 0;
    int last_errno = 0;
    double t0 = now_s();
    for (long long i = 0; i < count; i++) {
        if (lo_send_message(addr, "/synth/1/freq", msg) < 0) {
            errors++;
            last_errno = lo_address_errno(addr);
        } else {
            sent++;
        }
    }
    double seconds = now_s() - t0;

    if (errors)
        fprintf(stderr, "lo_send: %lld sends failed, last: %s\n", errors,
                strerror(last_errno));
    printf("{\"sent\":%lld,\"errors\":%lld,\"seconds\":%.9f}\n", sent, errors,
           seconds);

    lo_message_free(msg);
    lo_address_free(addr);
    return 0;
}
