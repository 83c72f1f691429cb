/* What the addon's two parts (udp.c, timer.c) share. */
#ifndef AIOLO_NATIVE_H
#define AIOLO_NATIVE_H

#include <node_api.h>

/* A failed Node-API call throws and returns from the JavaScript-facing function that made it. */
#define NCHECK(call)                                                                               \
    do {                                                                                           \
        if ((call) != napi_ok) {                                                                   \
            napi_throw_error(env, "ERR_AIOLO_NATIVE", #call " failed");                            \
            return NULL;                                                                           \
        }                                                                                          \
    } while (0)

static inline napi_value native_num(napi_env env, double d)
{
    napi_value v;
    napi_create_double(env, d, &v);
    return v;
}

/* Calls the JavaScript function `ref` holds from the loop, as Node calls its own (microtasks run
 * after it); what it throws becomes an uncaught exception, as from an event listener. The caller
 * opens a handle scope around it. `*in_callback` counts the calls under way: JavaScript may close
 * the handle from inside, and napi_make_callback still uses `async` until it returns, so the
 * caller releases its references only once the count is back to 0. */
void native_call(napi_env env, napi_async_context async, napi_ref ref, size_t argc, napi_value *argv, int *in_callback);

/* Adds timer.c's functions to the module's exports. */
void timer_define(napi_env env, napi_value exports);

#endif
