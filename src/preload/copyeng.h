/* copyeng.h: the copy engine behind hmo.h's copies (copyeng.c). */
#ifndef HMO_PRELOAD_COPYENG_H
#define HMO_PRELOAD_COPYENG_H

#include <stdint.h>

#pragma GCC visibility push(hidden)

/* hmo.h's copies: calls, bytes, and the time spent copying. */
void hmo_copyeng_stats(uint64_t *calls, uint64_t *bytes, uint64_t *ns);

#pragma GCC visibility pop

#endif
