/* ctx.c: contexts going away, and what hmo drops with them.
 *
 * The driver frees a context's memory, events and streams with it. hmo keeps, per
 * context, cached device and pinned blocks (mem.c) and a staging ring of pinned
 * chunks with their events (stage.c); when a context goes, exactly its share is
 * forgotten, without a driver call on any of it (the driver has freed it), and
 * nothing of the contexts that live on is touched.
 *
 * The calls that can end a context: cuCtxDestroy (both names), and for a device's
 * primary context cuDevicePrimaryCtxReset and cuDevicePrimaryCtxRelease (each with and
 * without _v2: FFmpeg's loader asks for the old names). Before any of them, hmo waits
 * for pooled blocks that another thread is freeing for real, and (for a destroy or a
 * reset, whose context is known) drops the cached blocks of that context, so that no
 * free of one lands after the context's end (its address may be someone else's by
 * then; if the call fails, they stay allocated until the context goes). After it,
 * hmo drops:
 *   - for a destroy, what it kept for contexts that are gone: a context is gone when
 *     cuCtxGetId (CUDA 12.0 on) no longer gives the id hmo saw; on an older driver,
 *     what it kept for that handle;
 *   - for a reset, and for a release after which the primary context is no longer
 *     active (the last one), what it kept for the device's primary context, by its
 *     handle (hmo sees cuDevicePrimaryCtxRetain), whatever its id says: a reset
 *     frees the context's memory even when retains keep it active. A release that
 *     only drops the count drops nothing. When the primary context's handle is not
 *     known, everything hmo kept is dropped (blocks cached in another live context
 *     then stay allocated until it goes: a leak, never a stale block). */
#include <pthread.h>

#include "cuda.h"
#include "../os.h"

static bool gone(const struct hmo_cu_ctx_ref *c)
{
	return !hmo_cu_alive(c);
}

static bool all(const struct hmo_cu_ctx_ref *c)
{
	(void)c;
	return true;
}

void hmo_cu_sweep(void)
{
	hmo_cu_mem_forget(gone);
	hmo_cu_stage_forget(gone);
}

void hmo_cu_forget_all(void)
{
	hmo_cu_mem_forget(all);
	hmo_cu_stage_forget(all);
}

/* A forked child cannot use its parent's driver state: the driver refuses it every
 * call, and a pool that handed it a parent's block would answer where the driver
 * would not. */
void hmo_cu_child(void)
{
	hmo_cu_hooks_child();
	hmo_cu_driver_child();
	hmo_cu_mem_child();
	hmo_cu_stage_child();
}

/* The primary context of each device, as cuDevicePrimaryCtxRetain gave it. */
#define MAX_DEVICES 64
static CUcontext primary[MAX_DEVICES];

CUresult cu_wrap_primary_retain(CUcontext *c, CUdevice d)
{
	CUresult (*real)(CUcontext *, CUdevice) = hmo_cu_next(HMO_CUOP_PRIMARY_RETAIN, 0);
	uint64_t t0 = os_now_ns();

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	CUresult rc = real(c, d);
	if (rc == CUDA_SUCCESS && c && d >= 0 && d < MAX_DEVICES)
		__atomic_store_n(&primary[d], *c, __ATOMIC_RELEASE);
	hmo_cu_note(HMO_CUOP_PRIMARY_RETAIN, 0, t0, rc, 0, 0);
	return rc;
}

/* The handle a teardown ended (the predicates run in the calling thread). */
static __thread CUcontext ended;

static bool is_ended(const struct hmo_cu_ctx_ref *c)
{
	return c->h == ended;
}

static void forget_handle(CUcontext h)
{
	ended = h;
	hmo_cu_mem_forget(is_ended);
	hmo_cu_stage_forget(is_ended);
	ended = NULL;
}

/* After a teardown call that succeeded: a destroy of c (dev < 0), or a reset or
 * release of dev's primary context. */
static void after(CUcontext c, CUdevice dev, bool reset)
{
	const struct hmo_cu_driver *d = hmo_cu_drv();
	unsigned flags = 0;
	int active = 1;

	if (dev < 0) {
		if (d->ctx_get_id)
			hmo_cu_sweep();
		else
			forget_handle(c);
		return;
	}
	if (!reset && d->primary_state && d->primary_state(dev, &flags, &active) == CUDA_SUCCESS && active) {
		if (d->ctx_get_id)
			hmo_cu_sweep();
		return;	/* a release that only dropped the count */
	}
	CUcontext h = dev < MAX_DEVICES ? __atomic_load_n(&primary[dev], __ATOMIC_ACQUIRE) : NULL;
	if (h)
		forget_handle(h);
	else
		hmo_cu_forget_all();
	if (d->ctx_get_id)
		hmo_cu_sweep();
}

/* A destroy of context c. */
static CUresult destroy(enum hmo_cu_op op, CUcontext c)
{
	CUresult (*real)(CUcontext) = hmo_cu_next(op, 0);
	uint64_t t0 = os_now_ns();

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	if (hmo_cu_state() == 1) {
		hmo_cu_mem_quiesce();
		forget_handle(c);	/* before: nothing of it may be freed after its end */
	}
	CUresult rc = real(c);
	if (rc == CUDA_SUCCESS && hmo_cu_state() == 1)
		after(c, -1, false);
	hmo_cu_note(op, 0, t0, rc, 0, 0);
	return rc;
}

/* A reset or a release of device dev's primary context. */
static CUresult primary_call(enum hmo_cu_op op, CUdevice dev, bool reset)
{
	CUresult (*real)(CUdevice) = hmo_cu_next(op, 0);
	uint64_t t0 = os_now_ns();

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	CUcontext h = dev >= 0 && dev < MAX_DEVICES ? __atomic_load_n(&primary[dev], __ATOMIC_ACQUIRE) : NULL;
	if (hmo_cu_state() == 1) {
		hmo_cu_mem_quiesce();
		if (reset && h)
			forget_handle(h);	/* before: nothing of it may be freed after its end */
	}
	CUresult rc = real(dev);
	if (rc == CUDA_SUCCESS && hmo_cu_state() == 1)
		after(NULL, dev, reset);
	hmo_cu_note(op, 0, t0, rc, 0, 0);
	return rc;
}

CUresult cu_wrap_ctx_destroy(CUcontext c) { return destroy(HMO_CUOP_CTX_DESTROY, c); }
CUresult cu_wrap_ctx_destroy_v1(CUcontext c) { return destroy(HMO_CUOP_CTX_DESTROY_V1, c); }
CUresult cu_wrap_primary_reset(CUdevice d) { return primary_call(HMO_CUOP_PRIMARY_RESET, d, true); }
CUresult cu_wrap_primary_reset_v1(CUdevice d) { return primary_call(HMO_CUOP_PRIMARY_RESET_V1, d, true); }
CUresult cu_wrap_primary_release(CUdevice d) { return primary_call(HMO_CUOP_PRIMARY_RELEASE, d, false); }
CUresult cu_wrap_primary_release_v1(CUdevice d) { return primary_call(HMO_CUOP_PRIMARY_RELEASE_V1, d, false); }

#define EXPORT_ALIAS(name, target) \
	extern __typeof__(target) name __attribute__((alias(#target), visibility("default")))

EXPORT_ALIAS(cuDevicePrimaryCtxRetain, cu_wrap_primary_retain);
EXPORT_ALIAS(cuCtxDestroy_v2, cu_wrap_ctx_destroy);
EXPORT_ALIAS(cuCtxDestroy, cu_wrap_ctx_destroy_v1);
EXPORT_ALIAS(cuDevicePrimaryCtxReset_v2, cu_wrap_primary_reset);
EXPORT_ALIAS(cuDevicePrimaryCtxReset, cu_wrap_primary_reset_v1);
EXPORT_ALIAS(cuDevicePrimaryCtxRelease_v2, cu_wrap_primary_release);
EXPORT_ALIAS(cuDevicePrimaryCtxRelease, cu_wrap_primary_release_v1);
