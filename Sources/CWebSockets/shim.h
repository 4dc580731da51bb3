#ifndef CONVOPS_CWEBSOCKETS_SHIM_H
#define CONVOPS_CWEBSOCKETS_SHIM_H
#include <libwebsockets.h>

// LWS_PRE is a function-like macro: the headroom lws_write needs before the payload.
static const size_t convops_lws_pre = LWS_PRE;
#endif
