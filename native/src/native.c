/* What the addon's two parts (udp.c, timer.c) share: see native.h. */
#include "native.h"

void native_call(napi_env env, napi_async_context async, napi_ref ref, size_t argc, napi_value *argv, int *in_callback)
{
    napi_value fn, recv, result;
    if (napi_get_reference_value(env, ref, &fn) != napi_ok || fn == NULL) return;
    napi_get_global(env, &recv); /* (napi_make_callback wants an object as `this`) */
    (*in_callback)++;
    napi_status status = napi_make_callback(env, async, recv, fn, argc, argv, &result);
    (*in_callback)--;
    if (status == napi_pending_exception) {
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
        napi_fatal_exception(env, exc);
    }
}
