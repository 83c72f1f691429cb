/*
 * aiolo's native UDP fast path (Linux).
 *
 * Node's dgram makes one recvmsg system call and one call into JavaScript per datagram, and
 * allocates a Buffer and an address object for each: above liblo's whole cost per message. Here
 * a socket of our own is watched with a uv_poll on Node's own loop; when it is readable, recvmmsg
 * takes up to `slots` datagrams in one system call into a ring JavaScript owns (an ArrayBuffer),
 * with each one's length and sender in a second ArrayBuffer (`meta`), and JavaScript is called
 * once per batch. A send is a sendto made at once from the calling JavaScript: no request object,
 * no round through the loop; the sends that follow it in the same run of JavaScript go out
 * together, one sendmmsg for up to SEND_BATCH_MAX (sendmany). A send the kernel cannot take now
 * (EAGAIN) is reported as such; JavaScript queues it and asks for a call when the socket is
 * writable.
 *
 * Everything the JavaScript side sees is plain data: numbers, the two ArrayBuffers, and errno
 * values (negative) for failures, named by errname(). The behaviour to match is node:dgram's as
 * aiolo uses it (src/transport/udp.ts): that file decides, this one only moves bytes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "native.h"

/* Per datagram in `meta`: length, flags, family (4 or 6), port, the address as four 32-bit words
 * in network order (IPv4: the first word only), then an IPv6 address's scope (its interface's
 * index, for a link-local sender; else 0). */
#define META_INTS 9
/* The first field of each handle's struct, checked before it is used as one: a socket handle
 * passed where a timer's is expected (or the reverse) is refused, not read past its end. */
#define SOCK_MAGIC 0x616f7564u /* "aoud" */
/* Batches taken per readable event before the loop gets a turn: 8 batches of 32 is 256 datagrams,
 * enough to amortise the wake-up, few enough that timers and other sockets are not starved. */
#define MAX_ROUNDS 8
#define MAX_SLOTS 1024

typedef struct {
    uint32_t magic; /* SOCK_MAGIC */
    napi_env env;
    int fd;
    int v6;
    uv_poll_t poll;
    int events;
    int started;
    int closed;    /* close() was called: fd is closed, the poll handle is closing */
    int uv_closed; /* the poll handle's close callback ran (or it was never initialised) */
    int finalized; /* the JavaScript handle was collected */
    int tearing_down; /* the environment is exiting (a worker's end): JavaScript is gone */
    napi_async_cleanup_hook_handle cleanup; /* until the socket is fully closed */
    int in_callback; /* JavaScript called from here is running (and may close the socket) */
    int released;    /* the references and the async context are released */
    napi_ref on_read;
    napi_ref on_writable;
    napi_ref ring_ref;
    napi_ref meta_ref;
    napi_async_context async;
    uint8_t *ring;
    int32_t *meta;
    unsigned slots;
    size_t slot_size;
    struct mmsghdr *msgs;
    struct iovec *iov;
    struct sockaddr_storage *names;
} sock_t;


static void free_sock(sock_t *s)
{
    free(s->msgs);
    free(s->iov);
    free(s->names);
    free(s);
}

/* The fd is closed and the poll handle's close callback has run (or it never existed). The
 * environment's exit waits for this (its cleanup hook): a worker that ends unloads this library
 * right after, and a close callback run by its loop then would call into unmapped code. */
static void fully_closed(sock_t *s)
{
    if (s->cleanup != NULL) {
        napi_remove_async_cleanup_hook(s->cleanup);
        s->cleanup = NULL;
    }
    if (s->finalized) free_sock(s);
}

static void on_uv_closed(uv_handle_t *h)
{
    sock_t *s = (sock_t *)h->data;
    s->uv_closed = 1;
    fully_closed(s);
}

static void release_refs(sock_t *s)
{
    napi_env env = s->env;
    if (s->released || s->tearing_down) return; /* (at exit the environment releases its own) */
    s->released = 1;
    if (s->on_read) napi_delete_reference(env, s->on_read);
    if (s->on_writable) napi_delete_reference(env, s->on_writable);
    if (s->ring_ref) napi_delete_reference(env, s->ring_ref);
    if (s->meta_ref) napi_delete_reference(env, s->meta_ref);
    if (s->async) napi_async_destroy(env, s->async);
    s->on_read = s->on_writable = s->ring_ref = s->meta_ref = NULL;
    s->async = NULL;
}

static void do_close(sock_t *s)
{
    if (s->closed) return;
    s->closed = 1;
    /* closed from inside a callback: napi_make_callback still uses the async context, so the
     * release waits until it returns (call_js) */
    if (s->in_callback == 0) release_refs(s);
    if (s->started) {
        uv_poll_stop(&s->poll);
        /* (the fd is ours, not libuv's: closing it once the poll is stopped is allowed) */
        close(s->fd);
        uv_close((uv_handle_t *)&s->poll, on_uv_closed);
    } else {
        close(s->fd);
        s->uv_closed = 1;
        fully_closed(s);
    }
}

/* The environment is exiting with the socket open (a worker ended, or the process): close it. */
static void on_env_cleanup(napi_async_cleanup_hook_handle handle, void *arg)
{
    (void)handle;
    sock_t *s = (sock_t *)arg;
    s->tearing_down = 1;
    do_close(s); /* (if it was closed already, its close callback is pending and will finish) */
}

static void finalize(napi_env env, void *data, void *hint)
{
    (void)env;
    (void)hint;
    sock_t *s = (sock_t *)data;
    /* a handle collected while open was abandoned by its owner: its socket goes with it */
    if (!s->closed) do_close(s);
    s->finalized = 1;
    if (s->uv_closed) free_sock(s);
}

static sock_t *get_sock(napi_env env, napi_value v)
{
    void *data = NULL;
    if (napi_get_value_external(env, v, &data) != napi_ok || data == NULL || *(uint32_t *)data != SOCK_MAGIC) {
        napi_throw_type_error(env, "ERR_AIOLO_NATIVE", "not a socket handle");
        return NULL;
    }
    return (sock_t *)data;
}


/* A sockaddr from a numeric host ("127.0.0.1", "::1", "fe80::1%lo") and a port; for an IPv6
 * socket, an IPv4 host is written as its v4-mapped form. 0 or -errno. */
static int make_addr(int v6, const char *host, int port, struct sockaddr_storage *out, socklen_t *len)
{
    memset(out, 0, sizeof(*out));
    if (port < 0 || port > 65535) return -EINVAL;
    if (!v6) {
        struct sockaddr_in *a = (struct sockaddr_in *)out;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1) return -EINVAL;
        *len = sizeof(*a);
        return 0;
    }
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    *len = sizeof(*a);
    struct in_addr v4;
    if (inet_pton(AF_INET, host, &v4) == 1) {
        a->sin6_addr.s6_addr[10] = 0xff;
        a->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&a->sin6_addr.s6_addr[12], &v4, 4);
        return 0;
    }
    char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    size_t n = strlen(host);
    if (n >= sizeof(buf)) return -EINVAL;
    memcpy(buf, host, n + 1);
    char *scope = strchr(buf, '%');
    if (scope != NULL) {
        *scope++ = '\0';
        char *end;
        unsigned long id = strtoul(scope, &end, 10);
        a->sin6_scope_id = (*end == '\0' && end != scope) ? (uint32_t)id : if_nametoindex(scope);
        if (a->sin6_scope_id == 0) return -EINVAL;
    }
    if (inet_pton(AF_INET6, buf, &a->sin6_addr) != 1) return -EINVAL;
    return 0;
}

/* open(v6, host, port, recvBufferSize, broadcast) -> [handle, port] | -errno
 * (host "" is every address; recvBufferSize 0 leaves the system's) */
static napi_value js_open(napi_env env, napi_callback_info info)
{
    size_t argc = 5;
    napi_value argv[5];
    NCHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    bool v6, broadcast;
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    size_t host_len;
    int32_t port, rcvbuf;
    NCHECK(napi_get_value_bool(env, argv[0], &v6));
    NCHECK(napi_get_value_string_utf8(env, argv[1], host, sizeof(host), &host_len));
    NCHECK(napi_get_value_int32(env, argv[2], &port));
    NCHECK(napi_get_value_int32(env, argv[3], &rcvbuf));
    NCHECK(napi_get_value_bool(env, argv[4], &broadcast));

    struct sockaddr_storage addr;
    socklen_t addr_len;
    int err = make_addr(v6, host_len == 0 ? (v6 ? "::" : "0.0.0.0") : host, port, &addr, &addr_len);
    if (err < 0) return native_num(env, err);
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return native_num(env, -errno);
    int one = 1;
    if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0) err = -errno;
    if (err == 0 && broadcast && setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0) err = -errno;
    if (err == 0 && bind(fd, (struct sockaddr *)&addr, addr_len) < 0) err = -errno;
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof(bound);
    if (err == 0 && getsockname(fd, (struct sockaddr *)&bound, &bound_len) < 0) err = -errno;
    if (err < 0) {
        close(fd);
        return native_num(env, err);
    }
    sock_t *s = calloc(1, sizeof(sock_t));
    if (s == NULL) {
        close(fd);
        return native_num(env, -ENOMEM);
    }
    s->magic = SOCK_MAGIC;
    s->env = env;
    s->fd = fd;
    s->v6 = v6;
    s->uv_closed = 1; /* until the poll handle exists */
    napi_value handle, result;
    if (napi_create_external(env, s, finalize, NULL, &handle) != napi_ok) {
        close(fd);
        free(s);
        napi_throw_error(env, "ERR_AIOLO_NATIVE", "napi_create_external failed");
        return NULL;
    }
    if (napi_add_async_cleanup_hook(env, on_env_cleanup, s, &s->cleanup) != napi_ok) s->cleanup = NULL;
    int bound_port = ntohs(v6 ? ((struct sockaddr_in6 *)&bound)->sin6_port : ((struct sockaddr_in *)&bound)->sin_port);
    NCHECK(napi_create_array_with_length(env, 2, &result));
    NCHECK(napi_set_element(env, result, 0, handle));
    NCHECK(napi_set_element(env, result, 1, native_num(env, bound_port)));
    return result;
}

/* Calls a JavaScript callback of the socket's (native_call), releasing the references after it if
 * it closed the socket. */
static void call_js(sock_t *s, napi_ref ref, int argc, napi_value *argv)
{
    napi_env env = s->env;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    native_call(env, s->async, ref, (size_t)argc, argv, &s->in_callback);
    if (s->closed && s->in_callback == 0) release_refs(s);
    napi_close_handle_scope(env, scope);
}

static void on_poll(uv_poll_t *h, int status, int events);

static int set_events(sock_t *s, int events)
{
    if (events == s->events) return 0;
    s->events = events;
    return events == 0 ? uv_poll_stop(&s->poll) : uv_poll_start(&s->poll, events, on_poll);
}

/* Points the batch's iovecs at the ring's slots (again, if the ring's memory moved). */
static void aim_slots(sock_t *s)
{
    for (unsigned i = 0; i < s->slots; i++) {
        s->iov[i].iov_base = s->ring + (size_t)i * s->slot_size;
        s->iov[i].iov_len = s->slot_size;
    }
}

/* The ring and meta buffers as they are now, before a batch is read into them: JavaScript may have
 * transferred (detached) or shrunk either since start(), and the kernel must not write where
 * they were. 0, or -1 if either no longer holds the slots. (Call inside a handle scope.) */
static int refresh_buffers(sock_t *s)
{
    napi_env env = s->env;
    napi_value ring, meta;
    void *ring_data, *meta_data;
    size_t ring_len, meta_len;
    if (napi_get_reference_value(env, s->ring_ref, &ring) != napi_ok || ring == NULL ||
        napi_get_reference_value(env, s->meta_ref, &meta) != napi_ok || meta == NULL ||
        napi_get_arraybuffer_info(env, ring, &ring_data, &ring_len) != napi_ok ||
        napi_get_arraybuffer_info(env, meta, &meta_data, &meta_len) != napi_ok || ring_data == NULL ||
        meta_data == NULL || ring_len < (size_t)s->slots * s->slot_size ||
        meta_len < (size_t)s->slots * META_INTS * sizeof(int32_t)) {
        return -1;
    }
    s->meta = meta_data;
    if (ring_data != s->ring) {
        s->ring = ring_data;
        aim_slots(s);
    }
    return 0;
}

static void read_batches(sock_t *s)
{
    for (int round = 0; round < MAX_ROUNDS && !s->closed; round++) {
        napi_handle_scope buffers_scope;
        if (napi_open_handle_scope(s->env, &buffers_scope) != napi_ok) return;
        int usable = refresh_buffers(s);
        napi_close_handle_scope(s->env, buffers_scope);
        if (usable < 0) {
            /* (aiolo's own buffers are private; only a caller of the raw addon gets here) */
            set_events(s, s->events & ~UV_READABLE);
            return;
        }
        for (unsigned i = 0; i < s->slots; i++) {
            s->msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
            s->msgs[i].msg_hdr.msg_flags = 0;
        }
        /* MSG_TRUNC: msg_len is a datagram's real length even if it did not fit its slot */
        int n = recvmmsg(s->fd, s->msgs, s->slots, MSG_DONTWAIT | MSG_TRUNC, NULL);
        if (n <= 0) return; /* EAGAIN: drained; an error concerns no datagram here (dgram ignores them too) */
        for (int i = 0; i < n; i++) {
            int32_t *m = s->meta + (size_t)i * META_INTS;
            struct msghdr *h = &s->msgs[i].msg_hdr;
            m[0] = (int32_t)s->msgs[i].msg_len;
            m[1] = (h->msg_flags & MSG_TRUNC) ? 1 : 0;
            struct sockaddr_storage *a = &s->names[i];
            if (a->ss_family == AF_INET6) {
                struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)a;
                m[2] = 6;
                m[3] = ntohs(a6->sin6_port);
                memcpy(&m[4], &a6->sin6_addr, 16);
                m[8] = (int32_t)a6->sin6_scope_id;
            } else {
                struct sockaddr_in *a4 = (struct sockaddr_in *)a;
                m[2] = 4;
                m[3] = ntohs(a4->sin_port);
                memcpy(&m[4], &a4->sin_addr, 4);
                m[5] = m[6] = m[7] = m[8] = 0;
            }
        }
        napi_value argv[1];
        napi_handle_scope scope;
        if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
        argv[0] = native_num(s->env, n);
        call_js(s, s->on_read, 1, argv);
        napi_close_handle_scope(s->env, scope);
        if ((unsigned)n < s->slots) return; /* fewer than asked for: nothing more is waiting */
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    sock_t *s = (sock_t *)h->data;
    if (s->closed) return;
    if (status < 0) events = s->events; /* an error on the fd: the calls below will say what */
    if (events & UV_READABLE) read_batches(s);
    if (!s->closed && (events & UV_WRITABLE) && (s->events & UV_WRITABLE)) call_js(s, s->on_writable, 0, NULL);
}


/* start(handle, ring, meta, slots, slotSize, onRead(n), onWritable()) -> 0 | -errno
 * ring: slots * slotSize bytes; meta: slots * META_INTS int32s. Reading starts at once. Every
 * argument is checked before anything is allocated or kept: one that does not fit throws (or
 * returns -EINVAL) and leaves the socket as it was. */
static napi_value js_start(napi_env env, napi_callback_info info)
{
    size_t argc = 7;
    napi_value argv[7];
    NCHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    sock_t *s = get_sock(env, argv[0]);
    if (s == NULL) return NULL;
    if (s->closed || s->started) return native_num(env, -EINVAL);
    void *ring, *meta;
    size_t ring_len, meta_len;
    uint32_t slots, slot_size;
    napi_valuetype on_read_type, on_writable_type;
    NCHECK(napi_get_arraybuffer_info(env, argv[1], &ring, &ring_len));
    NCHECK(napi_get_arraybuffer_info(env, argv[2], &meta, &meta_len));
    NCHECK(napi_get_value_uint32(env, argv[3], &slots));
    NCHECK(napi_get_value_uint32(env, argv[4], &slot_size));
    NCHECK(napi_typeof(env, argv[5], &on_read_type));
    NCHECK(napi_typeof(env, argv[6], &on_writable_type));
    if (on_read_type != napi_function || on_writable_type != napi_function) {
        napi_throw_type_error(env, "ERR_AIOLO_NATIVE", "onRead and onWritable must be functions");
        return NULL;
    }
    if (slots == 0 || slots > MAX_SLOTS || slot_size == 0 || ring == NULL || meta == NULL ||
        ring_len < (size_t)slots * slot_size || meta_len < (size_t)slots * META_INTS * sizeof(int32_t)) {
        return native_num(env, -EINVAL);
    }
    uv_loop_t *loop;
    napi_value name;
    NCHECK(napi_get_uv_event_loop(env, &loop));
    NCHECK(napi_create_string_utf8(env, "aiolo:udp", NAPI_AUTO_LENGTH, &name));
    s->msgs = calloc(slots, sizeof(struct mmsghdr));
    s->iov = calloc(slots, sizeof(struct iovec));
    s->names = calloc(slots, sizeof(struct sockaddr_storage));
    if (s->msgs == NULL || s->iov == NULL || s->names == NULL) {
        free(s->msgs);
        free(s->iov);
        free(s->names);
        s->msgs = NULL;
        s->iov = NULL;
        s->names = NULL;
        return native_num(env, -ENOMEM);
    }
    int err = uv_poll_init(loop, &s->poll, s->fd);
    if (err < 0) return native_num(env, err); /* (the arrays are freed with the socket) */
    s->ring = ring;
    s->meta = meta;
    s->slots = slots;
    s->slot_size = slot_size;
    aim_slots(s);
    for (unsigned i = 0; i < slots; i++) {
        s->msgs[i].msg_hdr.msg_iov = &s->iov[i];
        s->msgs[i].msg_hdr.msg_iovlen = 1;
        s->msgs[i].msg_hdr.msg_name = &s->names[i];
    }
    /* (these cannot fail for the values checked above) */
    napi_create_reference(env, argv[1], 1, &s->ring_ref);
    napi_create_reference(env, argv[2], 1, &s->meta_ref);
    napi_create_reference(env, argv[5], 1, &s->on_read);
    napi_create_reference(env, argv[6], 1, &s->on_writable);
    napi_async_init(env, NULL, name, &s->async);
    s->poll.data = s;
    s->started = 1;
    s->uv_closed = 0;
    return native_num(env, set_events(s, UV_READABLE));
}

/* A send's destination from JavaScript's port and numeric host: *err is 0, or -errno for a host
 * the system cannot parse. Not napi_ok: the arguments were not a number and a string. */
static napi_status read_dest(napi_env env, sock_t *s, napi_value port_v, napi_value host_v,
                             struct sockaddr_storage *to, socklen_t *to_len, int *err)
{
    int32_t port;
    napi_status status = napi_get_value_int32(env, port_v, &port);
    if (status != napi_ok) return status;
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    size_t host_len;
    status = napi_get_value_string_utf8(env, host_v, host, sizeof(host), &host_len);
    if (status != napi_ok) return status;
    *err = make_addr(s->v6, host, port, to, to_len);
    return napi_ok;
}

/* send(handle, bytes: Uint8Array, port, host) -> bytes sent | -errno (-EAGAIN: try when writable) */
static napi_value js_send(napi_env env, napi_callback_info info)
{
    size_t argc = 4;
    napi_value argv[4];
    NCHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    sock_t *s = get_sock(env, argv[0]);
    if (s == NULL) return NULL;
    if (s->closed) return native_num(env, -EBADF);
    napi_typedarray_type type;
    size_t length, offset;
    void *data;
    napi_value ab;
    NCHECK(napi_get_typedarray_info(env, argv[1], &type, &length, &data, &ab, &offset));
    struct sockaddr_storage to;
    socklen_t to_len;
    int err;
    NCHECK(read_dest(env, s, argv[2], argv[3], &to, &to_len, &err));
    if (err < 0) return native_num(env, err);
    ssize_t n;
    do {
        n = sendto(s->fd, data, length, MSG_DONTWAIT, (struct sockaddr *)&to, to_len);
    } while (n < 0 && errno == EINTR);
    return native_num(env, n < 0 ? -errno : (double)n);
}

/* Datagrams one sendmany() call takes: sendmmsg's saving flattens out by then (on a 2-core VM,
 * loopback: 2.8-3.4 us a datagram one sendto each, 0.9-1.2 us in calls of 32, 0.8-1.2 in 256). */
#define SEND_BATCH_MAX 64

/* sendmany(handle, out: Uint8Array, lengths: Int32Array, from, to, port, host) -> datagrams sent
 * (the first `n` of from..to-1) | -errno: the first could not be sent (-EAGAIN: try when
 * writable). Datagram i is lengths[i] bytes of `out`, after those of datagrams 0..i-1; all go to
 * one destination, in one sendmmsg. */
static napi_value js_sendmany(napi_env env, napi_callback_info info)
{
    size_t argc = 7;
    napi_value argv[7];
    NCHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    sock_t *s = get_sock(env, argv[0]);
    if (s == NULL) return NULL;
    if (s->closed) return native_num(env, -EBADF);
    napi_typedarray_type type;
    size_t out_length, lengths_count, offset;
    void *out;
    void *lengths_data;
    napi_value ab;
    NCHECK(napi_get_typedarray_info(env, argv[1], &type, &out_length, &out, &ab, &offset));
    if (type != napi_uint8_array) return native_num(env, -EINVAL); /* (lengths count elements) */
    NCHECK(napi_get_typedarray_info(env, argv[2], &type, &lengths_count, &lengths_data, &ab, &offset));
    if (type != napi_int32_array) return native_num(env, -EINVAL);
    const int32_t *lengths = lengths_data;
    int32_t from, to;
    NCHECK(napi_get_value_int32(env, argv[3], &from));
    NCHECK(napi_get_value_int32(env, argv[4], &to));
    if (from < 0 || to <= from || to - from > SEND_BATCH_MAX || (size_t)to > lengths_count) return native_num(env, -EINVAL);
    struct sockaddr_storage dest;
    socklen_t dest_len;
    int err;
    NCHECK(read_dest(env, s, argv[5], argv[6], &dest, &dest_len, &err));
    if (err < 0) return native_num(env, err);
    struct mmsghdr msgs[SEND_BATCH_MAX];
    struct iovec iov[SEND_BATCH_MAX];
    int count = to - from;
    memset(msgs, 0, sizeof(msgs[0]) * (size_t)count);
    size_t at = 0; /* where datagram i starts: after 0..i-1, those before `from` included */
    for (int32_t i = 0; i < to; i++) {
        int32_t length = lengths[i];
        /* (compared with what is left, so that `at` never passes the buffer's end, nor wraps) */
        if (length < 0 || (size_t)length > out_length - at) return native_num(env, -EINVAL);
        if (i >= from) {
            int k = i - from;
            iov[k].iov_base = (char *)out + at;
            iov[k].iov_len = (size_t)length;
            msgs[k].msg_hdr.msg_name = &dest;
            msgs[k].msg_hdr.msg_namelen = dest_len;
            msgs[k].msg_hdr.msg_iov = &iov[k];
            msgs[k].msg_hdr.msg_iovlen = 1;
        }
        at += (size_t)length;
    }
    int n;
    do {
        n = sendmmsg(s->fd, msgs, (unsigned int)count, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    return native_num(env, n < 0 ? -errno : n);
}

/* writable(handle, want) -> 0 | -errno: whether onWritable is called when the socket can take more */
static napi_value js_writable(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2];
    NCHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    sock_t *s = get_sock(env, argv[0]);
    if (s == NULL) return NULL;
    bool want;
    NCHECK(napi_get_value_bool(env, argv[1], &want));
    if (s->closed || !s->started) return native_num(env, -EBADF);
    return native_num(env, set_events(s, want ? (UV_READABLE | UV_WRITABLE) : UV_READABLE));
}

/* ref(handle, keepAlive): whether the open socket keeps the process alive, as dgram's ref()/unref() */
static napi_value js_ref(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2];
    NCHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    sock_t *s = get_sock(env, argv[0]);
    if (s == NULL) return NULL;
    bool keep;
    NCHECK(napi_get_value_bool(env, argv[1], &keep));
    if (!s->closed && s->started) {
        if (keep) uv_ref((uv_handle_t *)&s->poll);
        else uv_unref((uv_handle_t *)&s->poll);
    }
    return NULL;
}

/* close(handle): idempotent; no callback runs after it */
static napi_value js_close(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    NCHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    sock_t *s = get_sock(env, argv[0]);
    if (s == NULL) return NULL;
    do_close(s);
    return NULL;
}

/* ntop(family, w0, w1, w2, w3, scope) -> the address as text, as Node's RemoteInfo gives it */
static napi_value js_ntop(napi_env env, napi_callback_info info)
{
    size_t argc = 6;
    napi_value argv[6];
    NCHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    int32_t family, w[4];
    uint32_t scope = 0;
    NCHECK(napi_get_value_int32(env, argv[0], &family));
    for (int i = 0; i < 4; i++) NCHECK(napi_get_value_int32(env, argv[i + 1], &w[i]));
    if (argc > 5) NCHECK(napi_get_value_uint32(env, argv[5], &scope));
    char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    if (inet_ntop(family == 6 ? AF_INET6 : AF_INET, w, text, INET6_ADDRSTRLEN) == NULL) text[0] = '\0';
    if (family == 6 && scope != 0 && text[0] != '\0') {
        /* a link-local sender, as Node writes it ("fe80::1%eth0"): a reply to it needs its
         * interface, and the text carries it back (make_addr reads the name) */
        size_t n = strlen(text);
        text[n] = '%';
        if (if_indextoname(scope, text + n + 1) == NULL) snprintf(text + n + 1, IF_NAMESIZE + 1, "%u", scope);
    }
    napi_value out;
    NCHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &out));
    return out;
}

/* errname(errno) -> "EADDRINUSE", as Node names system errors */
static napi_value js_errname(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    NCHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    int32_t e;
    NCHECK(napi_get_value_int32(env, argv[0], &e));
    const char *name = strerrorname_np(e < 0 ? -e : e);
    napi_value out;
    NCHECK(napi_create_string_utf8(env, name != NULL ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &out));
    return out;
}

static napi_value init(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
        {"start", NULL, js_start, NULL, NULL, NULL, napi_enumerable, NULL},
        {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
        {"sendmany", NULL, js_sendmany, NULL, NULL, NULL, napi_enumerable, NULL},
        {"writable", NULL, js_writable, NULL, NULL, NULL, napi_enumerable, NULL},
        {"ref", NULL, js_ref, NULL, NULL, NULL, napi_enumerable, NULL},
        {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
        {"ntop", NULL, js_ntop, NULL, NULL, NULL, napi_enumerable, NULL},
        {"errname", NULL, js_errname, NULL, NULL, NULL, napi_enumerable, NULL},
    };
    napi_value meta;
    napi_create_uint32(env, META_INTS, &meta);
    napi_set_named_property(env, exports, "META_INTS", meta);
    napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
    timer_define(env, exports);
    return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
