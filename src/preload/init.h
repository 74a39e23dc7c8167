/* init.h: starting hmo (init.c), from its constructor or from the first hook. */
#ifndef HMO_PRELOAD_INIT_H
#define HMO_PRELOAD_INIT_H

#include <stdbool.h>
#include <stdint.h>

#include "counters.h"

#pragma GCC visibility push(hidden)

/* Initialises hmo once: resolves the next definitions, reads the options, registers
 * the fork and thread-exit handlers. Safe to call from any hook; a call made while
 * another is in progress returns at once with hmo not ready. */
void hmo_init(void);

/* The slow path of a hook that may start hmo: initialises hmo if nothing has (and
 * this is not hmo's own call), counts where it can, and says whether hmo_real can
 * be used yet. false: dlsym inside init, or another thread's init in progress;
 * waiting for that thread could deadlock (it may need the loader lock this thread
 * holds), so the caller serves the request without hmo_real. */
bool hmo_count_or_init(enum hmo_fn fn, uint64_t n, bool sized);

/* Counts a call and says whether hmo_real can be used: the hot path of the hooks
 * that have no path of their own. */
static inline bool hmo_counted(enum hmo_fn fn, uint64_t n, bool sized)
{
	struct hmo_slot *s = hmo_tls.slot;

	if (__builtin_expect(s != NULL, 1)) {
		if (sized)
			hmo_count(s, fn, n);
		else
			hmo_count_call(s, fn);
		return true;
	}
	return hmo_count_or_init(fn, n, sized);
}

#pragma GCC visibility pop

#endif
