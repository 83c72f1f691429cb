/*
 * lo_serde: how fast liblo itself encodes and decodes OSC, as the baseline
 * for aiolo's codec benchmark.
 *
 * Usage:  lo_serde <ms> <rounds>
 *         lo_serde serve
 *
 * Cases: "/synth/1/freq ,ifs", "16 floats", "bundle of 10", "4 KiB blob".
 * In each of <rounds> rounds, every case runs encode for about <ms>
 * milliseconds, then decode likewise; the reported rate is the median over
 * rounds, in operations per second.
 *
 * serve: measures on demand, so that the benchmark can time liblo moments
 * after aiolo on the same case, round by round (on a shared machine, load
 * that comes and goes would otherwise favour whichever ran in a quiet spell).
 * Prints "CASE <index> <name>" for each case, then "READY"; then reads lines
 * "<enc|dec> <case index> <ms>" and answers each with {"rate":N} (operations
 * per second over about <ms> milliseconds); "quit" or end of input exits.
 *
 *   encode = lo_message_serialise / lo_bundle_serialise into a buffer that
 *            liblo allocates, then free() (like a JS encode() returning a new
 *            buffer).
 *   decode = lo_message_deserialise + lo_message_free.  liblo 0.31 has no
 *            public bundle deserialiser, so a bundle is decoded the way its
 *            own dispatcher does it: check "#bundle", read the timetag, walk
 *            the size-prefixed elements and deserialise each message.
 *
 * stdin:  unused, but in serve mode.
 * stdout: one JSON line per case, e.g.
 *   {"case":"/synth/1/freq ,ifs","encode":12345678.9,"decode":9876543.2}
 * stderr: diagnostics; exit 1 if a sanity check of the codec fails, 2 on
 * bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lo/lo.h>

/* Clock reads are amortised over this many operations. */
#define BATCH 1000

#define NUM_CASES 4
#define BUNDLE_LEN 10
#define BLOB_LEN 4096

struct bench_case {
    const char *name;
    const char *path;  /* NULL for the bundle case */
    lo_message msg;
    lo_bundle bundle;
    void *bytes;       /* serialised form, input to decode */
    size_t size;
};

/* Keeps the optimiser from discarding results of the timed work. */
static volatile uint64_t sink;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "lo_serde: %s\n", what);
    exit(1);
}

static uint32_t read_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

typedef int (*visit_fn)(lo_message m, void *ctx);

/*
 * Decodes a bundle the way liblo's server does before dispatch: returns the
 * number of messages visited, or -1 if the bytes are not a valid bundle.
 * Nested bundles are followed because liblo's dispatcher follows them too.
 */
static int walk_bundle(unsigned char *data, size_t size, lo_timetag *tt,
                       visit_fn visit, void *ctx)
{
    size_t pos = 16;
    int count = 0;

    if (size < 16 || memcmp(data, "#bundle", 8) != 0)
        return -1;
    tt->sec = read_be32(data + 8);
    tt->frac = read_be32(data + 12);

    while (pos < size) {
        uint32_t elen;
        unsigned char *elem;

        if (size - pos < 4)
            return -1;
        elen = read_be32(data + pos);
        pos += 4;
        if (elen == 0 || elen % 4 != 0 || elen > size - pos)
            return -1;
        elem = data + pos;

        if (elen >= 8 && memcmp(elem, "#bundle", 8) == 0) {
            lo_timetag inner;
            int n = walk_bundle(elem, elen, &inner, visit, ctx);
            if (n < 0)
                return -1;
            count += n;
        } else {
            int result = 0;
            lo_message m = lo_message_deserialise(elem, elen, &result);
            if (!m)
                return -1;
            if (visit && visit(m, ctx) != 0) {
                lo_message_free(m);
                return -1;
            }
            lo_message_free(m);
            count++;
        }
        pos += elen;
    }
    return count;
}

static uint64_t op_encode(struct bench_case *c)
{
    size_t size = 0;
    unsigned char *p;

    if (c->bundle)
        p = lo_bundle_serialise(c->bundle, NULL, &size);
    else
        p = lo_message_serialise(c->msg, c->path, NULL, &size);
    uint64_t r = p[size - 1] + size;
    free(p);
    return r;
}

static int visit_count_args(lo_message m, void *ctx)
{
    *(uint64_t *)ctx += (uint64_t)lo_message_get_argc(m);
    return 0;
}

static uint64_t op_decode(struct bench_case *c)
{
    if (c->bundle) {
        lo_timetag tt;
        uint64_t args = 0;
        int n = walk_bundle(c->bytes, c->size, &tt, visit_count_args, &args);
        return (uint64_t)n + args + tt.frac;
    }
    lo_message m = lo_message_deserialise(c->bytes, c->size, NULL);
    uint64_t r = (uint64_t)lo_message_get_argc(m);
    lo_message_free(m);
    return r;
}

typedef uint64_t (*op_fn)(struct bench_case *c);

/* Runs op in batches until at least ms have passed; returns ops/second. */
static double measure(op_fn op, struct bench_case *c, double ms)
{
    uint64_t budget = (uint64_t)(ms * 1e6);
    uint64_t ops = 0, acc = 0;
    uint64_t t0 = now_ns(), t;

    do {
        for (int i = 0; i < BATCH; i++)
            acc += op(c);
        ops += BATCH;
        t = now_ns();
    } while (t - t0 < budget);
    sink += acc;
    return (double)ops * 1e9 / (double)(t - t0);
}

static void build_cases(struct bench_case *cases)
{
    lo_message m;

    m = lo_message_new();
    lo_message_add_int32(m, 440);
    lo_message_add_float(m, 0.5f);
    lo_message_add_string(m, "sine");
    cases[0] = (struct bench_case){ "/synth/1/freq ,ifs", "/synth/1/freq",
                                    m, NULL, NULL, 0 };

    m = lo_message_new();
    for (int i = 0; i < 16; i++)
        lo_message_add_float(m, (float)i + 0.25f);
    cases[1] = (struct bench_case){ "16 floats", "/floats", m, NULL, NULL, 0 };

    lo_bundle b = lo_bundle_new(LO_TT_IMMEDIATE);
    for (int i = 0; i < BUNDLE_LEN; i++) {
        char path[32];
        snprintf(path, sizeof path, "/voice/%d", i);
        m = lo_message_new();
        lo_message_add_int32(m, i);
        lo_message_add_float(m, (float)i * 0.5f);
        /* The bundle copies the path and takes a reference on m. */
        if (lo_bundle_add_message(b, path, m) != 0)
            die("lo_bundle_add_message failed");
    }
    cases[2] = (struct bench_case){ "bundle of 10", NULL, NULL, b, NULL, 0 };

    unsigned char blobdata[BLOB_LEN];
    for (int k = 0; k < BLOB_LEN; k++)
        blobdata[k] = (unsigned char)(k & 0xff);
    lo_blob blob = lo_blob_new(BLOB_LEN, blobdata);
    m = lo_message_new();
    /* The message copies the blob's bytes, so the blob can go now. */
    lo_message_add_blob(m, blob);
    lo_blob_free(blob);
    cases[3] = (struct bench_case){ "4 KiB blob", "/blob", m, NULL, NULL, 0 };

    for (int i = 0; i < NUM_CASES; i++) {
        struct bench_case *c = &cases[i];
        if (c->bundle)
            c->bytes = lo_bundle_serialise(c->bundle, NULL, &c->size);
        else
            c->bytes = lo_message_serialise(c->msg, c->path, NULL, &c->size);
        if (!c->bytes || c->size == 0)
            die("serialise failed");
    }
}

static void check_types(lo_message m, const char *types)
{
    if (lo_message_get_argc(m) != (int)strlen(types) ||
        strcmp(lo_message_get_types(m), types) != 0)
        die("decoded argc/typetags do not match");
}

static int check_voice(lo_message m, void *ctx)
{
    int *index = ctx;
    lo_arg **argv = lo_message_get_argv(m);

    check_types(m, "if");
    if (argv[0]->i != *index || argv[1]->f != (float)*index * 0.5f)
        die("bundle element has wrong values");
    (*index)++;
    return 0;
}

/* Fails loudly if liblo's round trip is not what the benchmark assumes. */
static void verify_cases(struct bench_case *cases)
{
    static const unsigned char small[40] = {
        '/', 's', 'y', 'n', 't', 'h', '/', '1', '/', 'f', 'r', 'e', 'q', 0, 0, 0,
        ',', 'i', 'f', 's', 0, 0, 0, 0,
        0x00, 0x00, 0x01, 0xb8,
        0x3f, 0x00, 0x00, 0x00,
        's', 'i', 'n', 'e', 0, 0, 0, 0,
    };
    lo_message m;
    lo_arg **argv;
    int result;

    if (cases[0].size != sizeof small || memcmp(cases[0].bytes, small, sizeof small) != 0)
        die("small message does not serialise to the expected 40 bytes");
    m = lo_message_deserialise(cases[0].bytes, cases[0].size, &result);
    if (!m)
        die("small message does not deserialise");
    check_types(m, "ifs");
    argv = lo_message_get_argv(m);
    if (argv[0]->i != 440 || argv[1]->f != 0.5f || strcmp(&argv[2]->s, "sine") != 0)
        die("small message has wrong values");
    lo_message_free(m);

    m = lo_message_deserialise(cases[1].bytes, cases[1].size, &result);
    if (!m)
        die("16 floats does not deserialise");
    check_types(m, "ffffffffffffffff");
    argv = lo_message_get_argv(m);
    if (argv[0]->f != 0.25f || argv[15]->f != 15.25f)
        die("16 floats has wrong values");
    lo_message_free(m);

    lo_timetag tt;
    int index = 0;
    if (walk_bundle(cases[2].bytes, cases[2].size, &tt, check_voice, &index) != BUNDLE_LEN ||
        index != BUNDLE_LEN)
        die("bundle does not decode to 10 messages");
    if (tt.sec != 0 || tt.frac != 1)
        die("bundle timetag is not immediate");

    m = lo_message_deserialise(cases[3].bytes, cases[3].size, &result);
    if (!m)
        die("blob message does not deserialise");
    check_types(m, "b");
    argv = lo_message_get_argv(m);
    if (argv[0]->blob.size != BLOB_LEN)
        die("blob size is not 4096");
    const unsigned char *bd = (const unsigned char *)&argv[0]->blob.data;
    for (int k = 0; k < BLOB_LEN; k++)
        if (bd[k] != (k & 0xff))
            die("blob bytes differ");
    lo_message_free(m);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long parse_positive(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v <= 0) {
        fprintf(stderr, "lo_serde: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

/* The serve mode (see the top of the file); returns the exit status. */
static int serve(struct bench_case *cases)
{
    char line[128], op[8];
    int i;
    double ms;

    for (i = 0; i < NUM_CASES; i++)
        printf("CASE %d %s\n", i, cases[i].name);
    printf("READY\n");
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "quit", 4) == 0)
            break;
        if (sscanf(line, "%7s %d %lf", op, &i, &ms) != 3 || i < 0 || i >= NUM_CASES || ms <= 0 ||
            (strcmp(op, "enc") != 0 && strcmp(op, "dec") != 0)) {
            fprintf(stderr, "lo_serde: bad command '%s'\n", line);
            return 2;
        }
        printf("{\"rate\":%.1f}\n", measure(op[0] == 'e' ? op_encode : op_decode, &cases[i], ms));
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_case cases[NUM_CASES];

    if (argc == 2 && strcmp(argv[1], "serve") == 0) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        build_cases(cases);
        verify_cases(cases);
        return serve(cases);
    }
    if (argc != 3) {
        fprintf(stderr, "usage: lo_serde <ms> <rounds> | lo_serde serve\n");
        return 2;
    }
    double ms = (double)parse_positive(argv[1], "ms");
    int rounds = (int)parse_positive(argv[2], "rounds");
    setvbuf(stdout, NULL, _IOLBF, 0);

    build_cases(cases);
    verify_cases(cases);

    double *enc = calloc((size_t)(NUM_CASES * rounds), sizeof *enc);
    double *dec = calloc((size_t)(NUM_CASES * rounds), sizeof *dec);
    if (!enc || !dec)
        die("out of memory");

    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < NUM_CASES; i++) {
            enc[i * rounds + r] = measure(op_encode, &cases[i], ms);
            dec[i * rounds + r] = measure(op_decode, &cases[i], ms);
        }
    }

    for (int i = 0; i < NUM_CASES; i++) {
        printf("{\"case\":\"%s\",\"encode\":%.1f,\"decode\":%.1f}\n",
               cases[i].name, median(&enc[i * rounds], rounds),
               median(&dec[i * rounds], rounds));
    }

    for (int i = 0; i < NUM_CASES; i++) {
        free(cases[i].bytes);
        if (cases[i].bundle)
            lo_bundle_free_recursive(cases[i].bundle);
        else
            lo_message_free(cases[i].msg);
    }
    free(enc);
    free(dec);
    return 0;
}
