/* process.h: what hmo knows of the process it runs in (process.c): its options,
 * its pid, when hmo started, and whether hmo is initialised. Set by hmo_init
 * (init.c) and again in a forked child; read everywhere. */
#ifndef HMO_PRELOAD_PROCESS_H
#define HMO_PRELOAD_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/options.h"
#include "base.h"

#pragma GCC visibility push(hidden)

/* 0: not started, 1: in progress, 2: done. */
extern int hmo_init_state;
extern struct hmo_options hmo_opt;
extern pid_t hmo_pid;
extern uint64_t hmo_start_ns;

static inline bool hmo_ready(void)
{
	return __atomic_load_n(&hmo_init_state, __ATOMIC_ACQUIRE) == 2;
}

#pragma GCC visibility pop

#endif
