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

/* Adds timer.c's functions to the module's exports. */
void timer_define(napi_env env, napi_value exports);

#endif
