/* base.h: what every file of libhmo.so starts from.
 *
 * The rules for everything under src/preload (doc/design.md has the reasons): no
 * malloc, no stdio and no dlsym on a hook's hot path; hmo's own work runs under the
 * thread's guard (counters.h) so that the calls it makes pass straight through;
 * errno is left as the C library leaves it.
 *
 * Each header of libhmo declares what one file defines, between
 * `#pragma GCC visibility push(hidden)` and its pop: internal to libhmo.so, so that
 * the hooks reach it directly rather than through the GOT. */
#ifndef HMO_PRELOAD_BASE_H
#define HMO_PRELOAD_BASE_H

#define HMO_EXPORT __attribute__((visibility("default")))
#define HMO_LIKELY(x) __builtin_expect(!!(x), 1)
#define HMO_UNLIKELY(x) __builtin_expect(!!(x), 0)

#endif
