/* cuda.h: what the files of hmo's CUDA layer share.
 *
 *   hooks.c   the roads to the driver (dlsym, cuGetProcAddress, direct links): which
 *             functions are wrapped, the real definition behind each wrapper, and the
 *             driver library itself, followed when it is unloaded and loaded again
 *   driver.c  the one table of driver functions hmo calls for its own use
 *   ctx.c     what hmo keeps per context, and the teardown wrappers
 *   mem.c     the device and pinned pools and the allocation and query wrappers
 *   stage.c   the staging pipeline and the copy wrappers
 *
 * The rules each file keeps (doc/cuda.md has the reasons):
 *   - everything hmo creates in the driver (events, pinned chunks) belongs to one
 *     context, is used only on that context's streams, and is forgotten when that
 *     context goes;
 *   - no hmo lock is held across a driver call that can block (a synchronisation, a
 *     free, an allocation);
 *   - on a capturing stream hmo stages, records and waits for nothing;
 *   - a pointer that hmo calls as "the real function" is never one of hmo's own. */
#ifndef HMO_PRELOAD_CUDA_CUDA_H
#define HMO_PRELOAD_CUDA_CUDA_H

#include <stdbool.h>
#include <stdint.h>

#include "defs.h"
#include "../../common/trace.h"

#pragma GCC visibility push(hidden)

/* ---- hooks.c ------------------------------------------------------------------- */

/* Per driver function: calls, bytes moved or allocated, and time spent in the call;
 * of those, the copies that hmo staged from or to pageable memory. */
struct hmo_cu_stat {
	uint64_t calls, bytes, ns, errors;
	uint64_t staged, staged_bytes, staged_ns;
};
extern struct hmo_cu_stat hmo_cu_stats[HMO_CUOP_COUNT];

/* The real function of op's variant (0: legacy stream, 1: per-thread default
 * stream), or NULL when there is none. Never one of hmo's wrappers. */
void *hmo_cu_next(enum hmo_cu_op op, int variant);
/* Any driver function, for hmo's own calls: `base` as cuGetProcAddress knows it,
 * `sym` as the library exports it; pt for the per-thread default stream variant.
 * Never one of hmo's wrappers; NULL when the driver has none. */
void *hmo_cu_driver(const char *base, const char *sym, bool pt);
/* Bumped each time the driver library goes away (dlclose): whatever was resolved or
 * created in the driver before is stale. */
extern unsigned hmo_cu_generation;

/* For dlsym.c: whether hmo wraps a name, and the wrapper for what the real dlsym
 * returned for it. */
bool hmo_cu_wraps(const char *name);
void *hmo_cu_dlsym(void *handle, const char *name, void *real);
/* For dlopen.c, after a dlclose that succeeded: whether the driver is still there. */
void hmo_cu_after_dlclose(void);

/* ---- driver.c ------------------------------------------------------------------ */

/* The driver functions hmo calls itself, resolved once per load of the driver (each
 * NULL where the driver lacks it). The copies are the real ones, never hmo's. */
struct hmo_cu_driver {
	CUresult (*ctx_get_current)(CUcontext *);
	CUresult (*ctx_push)(CUcontext);
	CUresult (*ctx_pop)(CUcontext *);
	CUresult (*ctx_get_id)(CUcontext, unsigned long long *);
	CUresult (*ctx_get_device)(CUdevice *);
	CUresult (*ctx_sync)(void);
	CUresult (*primary_state)(CUdevice, unsigned *, int *);
	CUresult (*stream_get_ctx)(CUstream, CUcontext *);
	CUresult (*stream_capturing)(CUstream, int *);
	CUresult (*stream_sync[2])(CUstream);
	CUresult (*event_create)(CUevent *, unsigned);
	CUresult (*event_destroy)(CUevent);
	CUresult (*event_record[2])(CUevent, CUstream);
	CUresult (*event_query)(CUevent);
	CUresult (*event_sync)(CUevent);
	CUresult (*host_alloc)(void **, size_t, unsigned);
	CUresult (*mem_free)(CUdeviceptr);
	CUresult (*free_host)(void *);
	CUresult (*ptr_attr)(void *, int, CUdeviceptr);
	CUresult (*range)(CUdeviceptr *, size_t *, CUdeviceptr);
	CUresult (*htod_async[2])(CUdeviceptr, const void *, size_t, CUstream);
	CUresult (*dtoh_async[2])(void *, CUdeviceptr, size_t, CUstream);
	CUresult (*copy2d_async[2])(const CUDA_MEMCPY2D *, CUstream);
	unsigned generation;
};
/* The table for the driver loaded now. */
const struct hmo_cu_driver *hmo_cu_drv(void);
/* The same, never resolving it (every entry NULL when it is not resolved yet): for
 * use under hmo's locks, since resolving calls into the loader and the driver. */
const struct hmo_cu_driver *hmo_cu_drv_now(void);

/* A context as hmo knows it: its handle and the id the driver gave it (a handle can
 * be handed out again after its context is destroyed; the id cannot). */
struct hmo_cu_ctx_ref {
	CUcontext h;
	unsigned long long id;
};
/* The current context; false when there is none. */
bool hmo_cu_current(struct hmo_cu_ctx_ref *out);
/* Whether that context still exists. */
bool hmo_cu_alive(const struct hmo_cu_ctx_ref *c);
/* Makes c current for the calling thread (pushed only when it is not already);
 * hmo_cu_leave undoes it. false when c cannot be made current. */
bool hmo_cu_enter(const struct hmo_cu_ctx_ref *c, bool *pushed);
void hmo_cu_leave(bool pushed);

/* ---- ctx.c --------------------------------------------------------------------- */

/* Checks which contexts hmo knows are gone, and drops what it kept for them (after a
 * context was destroyed, reset or released). */
void hmo_cu_sweep(void);
/* Drops everything hmo kept in the driver, calling nothing (the driver went). */
void hmo_cu_forget_all(void);
/* In a forked child (one thread, the driver unusable there): the same, and the locks
 * set up again, since the fork may have caught another thread holding one. */
void hmo_cu_child(void);
void hmo_cu_mem_child(void);
void hmo_cu_stage_child(void);
void hmo_cu_hooks_child(void);
void hmo_cu_driver_child(void);
/* The driver library went: each part forgets what it decided about it. */
void hmo_cu_mem_unloaded(void);
void hmo_cu_stage_unloaded(void);
/* Before a context can go: waits (briefly) until no pooled block is in flight in
 * another thread, whose real free could otherwise land after the context's end. */
void hmo_cu_mem_quiesce(void);

/* ---- mem.c --------------------------------------------------------------------- */

/* 0 before the first cuInit, 1 after one that succeeded, else its error. */
int hmo_cu_state(void);
/* Drops every block of a context that is gone (gone(ref) says which), calling no
 * driver function on them: the driver freed them with their context. */
void hmo_cu_mem_forget(bool (*gone)(const struct hmo_cu_ctx_ref *));
/* Counts a call, and traces it when HMO_TRACE is on (ptr: the device or pinned host
 * pointer it concerned; flags HMO_CUDA_*). */
void hmo_cu_note(enum hmo_cu_op op, uint64_t bytes, uint64_t t0, CUresult rc, uint64_t ptr, unsigned flags);

struct hmo_cu_pool_stats {
	uint64_t dev_hits, dev_misses, dev_cached, dev_peak_cached, dev_released, dev_oom_retries;
	uint64_t host_hits, host_misses, host_cached, double_frees;
	uint64_t mem_free, mem_total;	/* at the program's last cuMemGetInfo */
	int state;	/* 0 not started, 1 on, else the error of the first cuInit */
};
void hmo_cu_pool_stats(struct hmo_cu_pool_stats *out);
/* Whether n bytes at device pointer p are the program's as far as the pool knows:
 * false when they run past the size it asked for, or lie in a block it freed. */
bool hmo_cu_device_range_ok(CUdeviceptr p, size_t n);

/* ---- stage.c ------------------------------------------------------------------- */

/* Whether a stream capture is under way anywhere in the process (captures begun and
 * not yet ended). */
bool hmo_cu_capturing(void);
/* Drops the staging ring of every context gone(ref) says is gone. */
void hmo_cu_stage_forget(bool (*gone)(const struct hmo_cu_ctx_ref *));
struct hmo_cu_stage_stats {
	uint64_t htod, htod_bytes, dtoh, dtoh_bytes, pinned, busy;
	uint64_t open_captures;	/* begun and never ended */
};
void hmo_cu_stage_stats(struct hmo_cu_stage_stats *out);

/* A wrapper of op's variant v with the given parameters: calls the real function,
 * then runs `after` (statements that may look at rc, or call `real args` again), and
 * counts the call with `bytes`. */
#define HMO_CU_WRAPPER(name, op, v, params, args, bytes, after)              \
	CUresult name params                                                 \
	{                                                                    \
		CUresult (*real) params = hmo_cu_next(op, v);                \
		uint64_t t0 = os_now_ns();                                  \
		if (!real)                                                   \
			return CUDA_ERROR_NOT_INITIALIZED;                   \
		CUresult rc = real args;                                     \
		after;                                                       \
		hmo_cu_note(op, bytes, t0, rc, 0, 0);                        \
		return rc;                                                   \
	}

/* The wrappers, by file. */
CUresult cu_wrap_init(unsigned flags);
CUresult cu_wrap_mem_alloc(CUdeviceptr *p, size_t n);
CUresult cu_wrap_mem_free(CUdeviceptr p);
CUresult cu_wrap_mem_alloc_host(void **p, size_t n);
CUresult cu_wrap_mem_host_alloc(void **p, size_t n, unsigned flags);
CUresult cu_wrap_mem_free_host(void *p);
CUresult cu_wrap_htod(CUdeviceptr d, const void *h, size_t n);
CUresult cu_wrap_dtoh(void *h, CUdeviceptr d, size_t n);
CUresult cu_wrap_htod_async(CUdeviceptr d, const void *h, size_t n, CUstream s);
CUresult cu_wrap_dtoh_async(void *h, CUdeviceptr d, size_t n, CUstream s);
CUresult cu_wrap_copy2d(const CUDA_MEMCPY2D *c);
CUresult cu_wrap_copy2d_async(const CUDA_MEMCPY2D *c, CUstream s);
CUresult cu_wrap_htod_pt(CUdeviceptr d, const void *h, size_t n);
CUresult cu_wrap_dtoh_pt(void *h, CUdeviceptr d, size_t n);
CUresult cu_wrap_htod_async_pt(CUdeviceptr d, const void *h, size_t n, CUstream s);
CUresult cu_wrap_dtoh_async_pt(void *h, CUdeviceptr d, size_t n, CUstream s);
CUresult cu_wrap_copy2d_pt(const CUDA_MEMCPY2D *c);
CUresult cu_wrap_copy2d_async_pt(const CUDA_MEMCPY2D *c, CUstream s);
CUresult cu_wrap_range(CUdeviceptr *base, size_t *size, CUdeviceptr p);
CUresult cu_wrap_ptr_attr(void *out, int attr, CUdeviceptr p);
CUresult cu_wrap_mem_info(size_t *free_, size_t *total);
CUresult cu_wrap_ipc_get(void *handle, CUdeviceptr p);
CUresult cu_wrap_stream_create(CUstream *s, unsigned flags);
CUresult cu_wrap_stream_create_prio(CUstream *s, unsigned flags, int prio);
CUresult cu_wrap_primary_retain(CUcontext *c, CUdevice d);
CUresult cu_wrap_begin_capture_v1(CUstream s);
CUresult cu_wrap_begin_capture_v1_pt(CUstream s);
CUresult cu_wrap_mem_alloc_from_pool(CUdeviceptr *p, size_t n, void *pool, CUstream s);
CUresult cu_wrap_mem_alloc_from_pool_pt(CUdeviceptr *p, size_t n, void *pool, CUstream s);
CUresult cu_wrap_ctx_destroy(CUcontext c);
CUresult cu_wrap_ctx_destroy_v1(CUcontext c);
CUresult cu_wrap_primary_reset(CUdevice d);
CUresult cu_wrap_primary_reset_v1(CUdevice d);
CUresult cu_wrap_primary_release(CUdevice d);
CUresult cu_wrap_primary_release_v1(CUdevice d);
CUresult cu_wrap_ptr_attrs(unsigned n, int *attrs, void **data, CUdeviceptr p);
CUresult cu_wrap_mem_alloc_async(CUdeviceptr *p, size_t n, CUstream s);
CUresult cu_wrap_mem_alloc_async_pt(CUdeviceptr *p, size_t n, CUstream s);
CUresult cu_wrap_mem_free_async(CUdeviceptr p, CUstream s);
CUresult cu_wrap_mem_free_async_pt(CUdeviceptr p, CUstream s);
CUresult cu_wrap_mem_alloc_managed(CUdeviceptr *p, size_t n, unsigned flags);
CUresult cu_wrap_mem_create(unsigned long long *h, size_t n, const void *prop, unsigned long long flags);
CUresult cu_wrap_mem_map(CUdeviceptr p, size_t n, size_t off, unsigned long long h, unsigned long long flags);
CUresult cu_wrap_mem_alloc_pitch(CUdeviceptr *p, size_t *pitch, size_t w, size_t h, unsigned elem);
CUresult cu_wrap_array_create(CUarray *a, const void *desc);
CUresult cu_wrap_array3d_create(CUarray *a, const void *desc);
CUresult cu_wrap_begin_capture(CUstream s, int mode);
CUresult cu_wrap_begin_capture_pt(CUstream s, int mode);
CUresult cu_wrap_begin_capture_to_graph(CUstream s, void *g, const void *deps, const void *data, size_t n, int mode);
CUresult cu_wrap_begin_capture_to_graph_pt(CUstream s, void *g, const void *deps, const void *data, size_t n, int mode);
CUresult cu_wrap_end_capture(CUstream s, void **g);
CUresult cu_wrap_end_capture_pt(CUstream s, void **g);
CUresult cu_wrap_gpa(const char *sym, void **pfn, int version, cuuint64_t flags);
CUresult cu_wrap_gpa2(const char *sym, void **pfn, int version, cuuint64_t flags, int *status);

#pragma GCC visibility pop

#endif
