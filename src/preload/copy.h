/* copy.h: the memcpy, memmove and memset hooks (copy.c). */
#ifndef HMO_PRELOAD_COPY_H
#define HMO_PRELOAD_COPY_H

#pragma GCC visibility push(hidden)

/* Points the _chk fields of hmo_real that the C library lacks at hmo's own
 * checked copies, so the hooks' fast paths need no NULL test. After
 * hmo_real_resolve. */
void hmo_copy_fill_missing(void);

#pragma GCC visibility pop

#endif
