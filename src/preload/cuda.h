/* cuda.h: what the files of hmo's CUDA layer share (cuda.c: the hook layers;
 * cudapool.c: the wrappers and the pools; dlsym.c: the dlsym override). */
#ifndef HMO_PRELOAD_CUDA_H
#define HMO_PRELOAD_CUDA_H

#include <stdbool.h>
#include <stdint.h>

#include "cudadefs.h"
#include "../common/trace.h"

#pragma GCC visibility push(hidden)

/* The driver functions hmo wraps: enum cu_op in ../common/trace.h, whose numbers
 * are part of the trace format. */

/* Per driver function: calls, bytes moved or allocated, and time spent in the call;
 * of those, the copies that hmo staged from or to pageable memory. */
struct hmo_cu_stat {
	uint64_t calls, bytes, ns, errors;
	uint64_t staged, staged_bytes, staged_ns;
};
extern struct hmo_cu_stat hmo_cu_stats[CU_COUNT];
const char *hmo_cu_name(enum cu_op op);

/* The real functions the program's lookups returned, per variant (0: legacy
 * stream, 1: per-thread default stream). */
extern void *hmo_cu_real[CU_COUNT][2];
/* The real function of op's variant, or NULL when there is none. */
void *hmo_cu_next(enum cu_op op, int variant);
/* Any driver function, for hmo's own calls: `base` as cuGetProcAddress knows it,
 * `sym` as the library exports it; pt for the per-thread default stream variant. */
void *hmo_cu_driver(const char *base, const char *sym, bool pt);
/* 0 before the first cuInit, 1 after one that succeeded, else its error. */
int hmo_cu_state(void);
/* Whether a per-thread default stream variant was handed out: such streams do not
 * synchronise with the legacy stream. */
extern bool hmo_cu_pt_seen;

/* dlsym.c: the real dlsym; whether hmo wraps a name; and the wrapper for what the
 * real dlsym returned for it. */
void *hmo_real_dlsym(void *handle, const char *name);
bool hmo_cu_wraps(const char *name);
void *hmo_cu_dlsym(void *handle, const char *name, void *real);

/* The wrappers (cudapool.c), and the per-thread variants of the stream-ordered ones. */
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
CUresult cu_wrap_ctx_destroy(CUcontext c);
CUresult cu_wrap_primary_reset(CUdevice d);
CUresult cu_wrap_primary_release(CUdevice d);
CUresult cu_wrap_ptr_attrs(unsigned n, int *attrs, void **data, CUdeviceptr p);
CUresult cu_wrap_mem_alloc_async(CUdeviceptr *p, size_t n, CUstream s);
CUresult cu_wrap_mem_alloc_async_pt(CUdeviceptr *p, size_t n, CUstream s);
CUresult cu_wrap_mem_free_async(CUdeviceptr p, CUstream s);
CUresult cu_wrap_mem_free_async_pt(CUdeviceptr p, CUstream s);
CUresult cu_wrap_mem_alloc_managed(CUdeviceptr *p, size_t n, unsigned flags);
CUresult cu_wrap_mem_create(unsigned long long *h, size_t n, const void *prop, unsigned long long flags);
CUresult cu_wrap_mem_map(CUdeviceptr p, size_t n, size_t off, unsigned long long h, unsigned long long flags);
CUresult cu_wrap_gpa(const char *sym, void **pfn, int version, cuuint64_t flags);
CUresult cu_wrap_gpa2(const char *sym, void **pfn, int version, cuuint64_t flags, int *status);

/* Pool figures for the exit summary. */
struct hmo_cu_pool_stats {
	uint64_t dev_hits, dev_misses, dev_cached, dev_peak_cached, dev_released, dev_oom_retries;
	uint64_t host_hits, host_misses, host_cached;
	uint64_t mem_free, mem_total;	/* at the program's last cuMemGetInfo */
	int state;	/* 0 not started, 1 on, else the error of the first cuInit */
};
void hmo_cu_pool_stats(struct hmo_cu_pool_stats *out);

/* cudastage.c: a pageable copy staged through pinned chunks. false when it is not
 * one to stage (the caller then makes the copy itself); else true with *rc the
 * result. async is the real asynchronous copy of the caller's variant. */
bool hmo_stage_htod(CUresult (*async)(CUdeviceptr, const void *, size_t, CUstream), int variant, CUdeviceptr d,
		    const void *h, size_t n, CUstream s, CUresult *rc);
bool hmo_stage_dtoh(CUresult (*async)(void *, CUdeviceptr, size_t, CUstream), int variant, void *h,
		    CUdeviceptr d, size_t n, CUstream s, CUresult *rc);
bool hmo_stage_2d(CUresult (*async)(const CUDA_MEMCPY2D *, CUstream), int variant, const CUDA_MEMCPY2D *c,
		  CUstream s, CUresult *rc);
/* HMO_PIN=auto|register: whether [h, h+n) lies in one frame-pool region that is
 * registered with the driver (registering it now if the policy says so), so that a
 * copy from or to it goes straight to the driver as pinned memory. */
bool hmo_pin_registered(const void *h, size_t n);
/* After an asynchronous copy from or to registered memory: waits for it, so that the
 * program sees what a pageable copy gives (the source free to reuse, the data in
 * place) on return. */
CUresult hmo_pin_wait(CUstream s, int variant);
/* Unregisters every registered region (a context is going away). */
void hmo_pin_forget(void);
struct hmo_cu_stage_stats {
	uint64_t htod, htod_bytes, dtoh, dtoh_bytes, pinned;
	uint64_t registered, registered_bytes, register_refused, direct;
};
void hmo_cu_stage_stats(struct hmo_cu_stage_stats *out);

#pragma GCC visibility pop

#endif
