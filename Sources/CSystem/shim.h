#ifndef CONVOPS_CSYSTEM_SHIM_H
#define CONVOPS_CSYSTEM_SHIM_H
#include <sys/prctl.h>
#include <sys/resource.h>

/* prctl is variadic, so Swift cannot call it: fixed-argument wrappers for the two uses. */
static inline int convops_set_dumpable(int on) { return prctl(PR_SET_DUMPABLE, (unsigned long)on, 0UL, 0UL, 0UL); }
static inline int convops_get_dumpable(void) { return prctl(PR_GET_DUMPABLE, 0UL, 0UL, 0UL, 0UL); }

#endif
