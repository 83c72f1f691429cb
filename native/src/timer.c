/*
 * A one-shot timer for aiolo's bundle scheduler and replay, due to the microsecond (Linux).
 *
 * Node's timers count whole milliseconds on the loop's millisecond clock, so a scheduler that must
 * never dispatch early wakes a millisecond or two ahead and then steps through turns of the loop
 * with setImmediate, each of which allocates in Node (~0.5 KB): the young-generation collections
 * that sets off land just before due times. Sleeping until the due time instead is late by the
 * wake-up itself, 0.1-0.2 ms typically on a VM and more when the CPU was idle.
 *
 * Here both halves are done without JavaScript. A timerfd on CLOCK_MONOTONIC (uv_hrtime's clock,
 * and performance.now()'s) is armed for `spin` before the due time and watched with a uv_poll on
 * Node's loop, so the loop sleeps until then. From there a uv_idle handle keeps the loop turning
 * without sleeping (I/O and timers go on each turn, as with setImmediate), and its callback compares
 * uv_hrtime() with the due time; JavaScript is called once, when it is due.
 *
 * A timer keeps the process alive only while armed, as a pending setTimeout does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "native.h"

/* The first field of a timer's struct: see udp.c's SOCK_MAGIC. */
#define TIMER_MAGIC 0x616f746du /* "aotm" */
/* The longest wait armed at once, 1e9 ms (~11.6 days): longer ones fire after this much, early.
 * Both callers check their clock when called and wait again (the scheduler never waits more than
 * 100 s at a time). Beyond it, nanoseconds from now would overflow the clock's 64 bits. */
#define MAX_ARM_MS 1e9

typedef struct {
    uint32_t magic; /* TIMER_MAGIC */
    napi_env env;
    int fd;
    uv_poll_t poll;
    uv_idle_t idle;
    uint64_t due; /* uv_hrtime() at which to fire */
    int armed;    /* the timerfd's poll is started */
    int spinning; /* the idle handle is started */
    int closed;
    int uv_closed; /* how many of the two handles' close callbacks ran */
    int finalized;
    int tearing_down; /* the environment is exiting (a worker's end): JavaScript is gone */
    napi_async_cleanup_hook_handle cleanup; /* until both handles are closed */
    int in_callback;
    int released;
    napi_ref on_fire;
    napi_async_context async;
} timer_t_;

static void free_timer(timer_t_ *t) { free(t); }

/* Timers armed or spinning now, in every thread: what holds loops open (timerHolding(), for tests). */
static int holding;

static void set_state(timer_t_ *t, int armed, int spinning)
{
    /* (atomic: worker threads load the addon too) */
    __atomic_add_fetch(&holding, (armed || spinning) - (t->armed || t->spinning), __ATOMIC_RELAXED);
    t->armed = armed;
    t->spinning = spinning;
}

static void on_uv_closed(uv_handle_t *h)
{
    timer_t_ *t = (timer_t_ *)h->data;
    if (++t->uv_closed < 2) return;
    /* both closed: an exiting environment may go on (and unload this library; see udp.c) */
    if (t->cleanup != NULL) {
        napi_remove_async_cleanup_hook(t->cleanup);
        t->cleanup = NULL;
    }
    if (t->finalized) free_timer(t);
}

static void release_refs(timer_t_ *t)
{
    if (t->released || t->tearing_down) return; /* (at exit the environment releases its own) */
    t->released = 1;
    if (t->on_fire) napi_delete_reference(t->env, t->on_fire);
    if (t->async) napi_async_destroy(t->env, t->async);
    t->on_fire = NULL;
    t->async = NULL;
}

static void stop(timer_t_ *t)
{
    if (t->armed) {
        struct itimerspec zero;
        memset(&zero, 0, sizeof(zero));
        timerfd_settime(t->fd, 0, &zero, NULL);
        uv_poll_stop(&t->poll);
    }
    if (t->spinning) uv_idle_stop(&t->idle);
    set_state(t, 0, 0);
}

static void do_close(timer_t_ *t)
{
    if (t->closed) return;
    t->closed = 1;
    stop(t);
    close(t->fd);
    uv_close((uv_handle_t *)&t->poll, on_uv_closed);
    uv_close((uv_handle_t *)&t->idle, on_uv_closed);
    /* closed from its own callback: napi_make_callback still uses the async context */
    if (t->in_callback == 0) release_refs(t);
}

/* The environment is exiting with the timer open (a worker ended, or the process): close it. */
static void on_env_cleanup(napi_async_cleanup_hook_handle handle, void *arg)
{
    (void)handle;
    timer_t_ *t = (timer_t_ *)arg;
    t->tearing_down = 1;
    do_close(t); /* (if it was closed already, its close callbacks are pending and will finish) */
}

static void finalize(napi_env env, void *data, void *hint)
{
    (void)env;
    (void)hint;
    timer_t_ *t = (timer_t_ *)data;
    if (!t->closed) do_close(t);
    t->finalized = 1;
    if (t->uv_closed == 2) free_timer(t);
}

static timer_t_ *get_timer(napi_env env, napi_value v)
{
    void *data = NULL;
    if (napi_get_value_external(env, v, &data) != napi_ok || data == NULL || *(uint32_t *)data != TIMER_MAGIC) {
        napi_throw_type_error(env, "ERR_AIOLO_NATIVE", "not a timer handle");
        return NULL;
    }
    return (timer_t_ *)data;
}

static void fire(timer_t_ *t)
{
    stop(t);
    napi_env env = t->env;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    native_call(env, t->async, t->on_fire, 0, NULL, &t->in_callback);
    if (t->closed && t->in_callback == 0) release_refs(t);
    napi_close_handle_scope(env, scope);
}

static void on_idle(uv_idle_t *h)
{
    timer_t_ *t = (timer_t_ *)h->data;
    if (!t->closed && uv_hrtime() >= t->due) fire(t);
}

static void spin(timer_t_ *t)
{
    if (t->armed) uv_poll_stop(&t->poll);
    if (!t->spinning && uv_idle_start(&t->idle, on_idle) == 0) set_state(t, 0, 1);
    else set_state(t, 0, t->spinning);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    timer_t_ *t = (timer_t_ *)h->data;
    if (t->closed) return;
    uint64_t expirations;
    /* EAGAIN: re-armed or disarmed since the kernel said readable; nothing is due */
    if (read(t->fd, &expirations, sizeof(expirations)) != (ssize_t)sizeof(expirations)) return;
    if (uv_hrtime() >= t->due) fire(t);
    else spin(t);
}

/* timerOpen(onFire) -> handle | -errno */
static napi_value js_open(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    NCHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    /* what can throw comes before anything is opened: a throw leaves nothing behind (a handle left
     * on a worker's loop would abort the process when the worker ends) */
    napi_valuetype type;
    uv_loop_t *loop;
    napi_value name;
    NCHECK(napi_typeof(env, argv[0], &type));
    if (type != napi_function) {
        napi_throw_type_error(env, "ERR_AIOLO_NATIVE", "onFire must be a function");
        return NULL;
    }
    NCHECK(napi_get_uv_event_loop(env, &loop));
    NCHECK(napi_create_string_utf8(env, "aiolo:timer", NAPI_AUTO_LENGTH, &name));
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return native_num(env, -errno);
    timer_t_ *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        close(fd);
        return native_num(env, -ENOMEM);
    }
    int rc = uv_poll_init(loop, &t->poll, fd);
    if (rc != 0) {
        close(fd);
        free(t);
        return native_num(env, rc);
    }
    uv_idle_init(loop, &t->idle); /* (cannot fail: it only fills in the struct) */
    t->magic = TIMER_MAGIC;
    t->env = env;
    t->fd = fd;
    t->poll.data = t;
    t->idle.data = t;
    napi_value handle;
    /* (these cannot fail for a function; if the external could not be made, the timer is closed
     * at once and its memory freed by the close callbacks) */
    napi_async_init(env, NULL, name, &t->async);
    napi_create_reference(env, argv[0], 1, &t->on_fire);
    if (napi_create_external(env, t, finalize, NULL, &handle) != napi_ok) {
        t->finalized = 1;
        do_close(t);
        napi_throw_error(env, "ERR_AIOLO_NATIVE", "napi_create_external failed");
        return NULL;
    }
    if (napi_add_async_cleanup_hook(env, on_env_cleanup, t, &t->cleanup) != napi_ok) t->cleanup = NULL;
    return handle;
}

/* timerArm(handle, ms, spinMs): fire once, `ms` (fractional) from now and never sooner, sleeping
 * until `spinMs` before then and turning the loop from there; an earlier arming is replaced.
 * 0 | -errno */
static napi_value js_arm(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value argv[3];
    NCHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    timer_t_ *t = get_timer(env, argv[0]);
    if (t == NULL) return NULL;
    double ms, spin_ms;
    NCHECK(napi_get_value_double(env, argv[1], &ms));
    NCHECK(napi_get_value_double(env, argv[2], &spin_ms));
    if (t->closed) return native_num(env, -EBADF);
    stop(t);
    if (!(ms > 0)) ms = 0; /* (NaN and negative: due now) */
    if (ms > MAX_ARM_MS) ms = MAX_ARM_MS;
    if (!(spin_ms > 0)) spin_ms = 0;
    /* rounded up, so that it never fires before the time asked */
    double ns = ceil(ms * 1e6);
    t->due = uv_hrtime() + (uint64_t)ns;
    double sleep_ns = ns - (spin_ms > 0 ? spin_ms * 1e6 : 0);
    if (sleep_ns < 1) {
        spin(t);
        return native_num(env, 0);
    }
    struct itimerspec spec;
    memset(&spec, 0, sizeof(spec));
    spec.it_value.tv_sec = (time_t)(sleep_ns / 1e9);
    spec.it_value.tv_nsec = (long)(sleep_ns - (double)spec.it_value.tv_sec * 1e9);
    if (timerfd_settime(t->fd, 0, &spec, NULL) != 0) return native_num(env, -errno);
    int rc = uv_poll_start(&t->poll, UV_READABLE, on_poll);
    if (rc != 0) return native_num(env, rc);
    set_state(t, 1, 0);
    return native_num(env, 0);
}

/* timerDisarm(handle): nothing fires until armed again */
static napi_value js_disarm(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    NCHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    timer_t_ *t = get_timer(env, argv[0]);
    if (t == NULL) return NULL;
    if (!t->closed) stop(t);
    return NULL;
}

/* timerClose(handle): idempotent; nothing fires after it */
static napi_value js_close(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    NCHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    timer_t_ *t = get_timer(env, argv[0]);
    if (t == NULL) return NULL;
    do_close(t);
    return NULL;
}

/* timerHolding() -> how many timers are armed or spinning, in this process */
static napi_value js_holding(napi_env env, napi_callback_info info)
{
    (void)info;
    return native_num(env, __atomic_load_n(&holding, __ATOMIC_RELAXED));
}

void timer_define(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        {"timerOpen", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
        {"timerArm", NULL, js_arm, NULL, NULL, NULL, napi_enumerable, NULL},
        {"timerDisarm", NULL, js_disarm, NULL, NULL, NULL, napi_enumerable, NULL},
        {"timerClose", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
        {"timerHolding", NULL, js_holding, NULL, NULL, NULL, napi_enumerable, NULL},
    };
    napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
