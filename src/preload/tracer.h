/* tracer.h: the trace writer (tracer.c), HMO_TRACE, in the format of
 * src/common/trace.h. */
#ifndef HMO_PRELOAD_TRACER_H
#define HMO_PRELOAD_TRACER_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/trace.h"
#include "base.h"
#include "counters.h"
#include "os.h"

#pragma GCC visibility push(hidden)

/* Whether events are recorded, and the size from which copies are (UINT64_MAX when
 * not tracing, so the copy hooks need one compare). */
extern bool hmo_tracing;
extern uint64_t hmo_trace_copy_min;
/* The size from which a copy is timed: the smaller of HMO_THRESHOLD (large copies,
 * for their bandwidth) and hmo_trace_copy_min. UINT64_MAX until hmo is initialised.
 * hmo_copy_timing() sets it again after either changes. */
extern uint64_t hmo_copy_timed_min;
void hmo_copy_timing(void);

/* From the constructor: opens the trace file when HMO_TRACE asks for one. */
void hmo_trace_init(void);
/* The loaded objects, again: at start and after each dlopen. */
void hmo_trace_modules(void);
/* Handlers for the crash signals the program left at their default. */
void hmo_trace_signals(void);
/* One large allocation, pool free or mmap-family call that started at t0 and has
 * just returned; outcome, backing and node as in trace.h. */
void hmo_trace_event(enum hmo_fn fn, uint64_t t0, uint64_t size, const void *addr, const void *old,
		     unsigned outcome, unsigned backing, int node);
void hmo_trace_copy(enum hmo_fn fn, uint64_t t0, uint64_t size, const void *dst, const void *src);
/* A CUDA driver call (enum hmo_cu_op), with HMO_CUDA_* flags and its CUresult. */
void hmo_trace_cuda(unsigned op, uint64_t t0, uint64_t size, uint64_t ptr, unsigned flags, int result);
/* A thread that recorded something is exiting: its buffer goes out. */
void hmo_trace_thread_exit(struct hmo_slot *s);
/* The frame pool's choice of pages (trace.h's HMO_REC_POOL), once when it starts. */
void hmo_trace_pool(const struct hmo_rec_pool *r);
/* In a forked child: a trace file of its own. */
void hmo_trace_child(void);
/* how: enum hmo_end_how. */
void hmo_trace_finish(unsigned how, int status);
/* Before exec: the buffered records out, without an end record (exec.c). */
void hmo_trace_flush(void);

/* Records the duration of a timed call that started at t0, and restarts the
 * countdown. */
void hmo_lat_note(struct hmo_slot *s, enum hmo_fn fn, uint64_t t0);

static inline uint64_t hmo_trace_t0(void)
{
	return HMO_UNLIKELY(hmo_tracing) ? os_now_ns() : 0;
}

#pragma GCC visibility pop

#endif
