/* ctx.c: contexts going away, and what hmo drops with them.
 *
 * The driver frees a context's memory, events and streams with it. hmo keeps, per
 * context, cached device and pinned blocks (mem.c) and a staging ring of pinned
 * chunks with their events (stage.c); when a context goes, exactly its share is
 * forgotten, without a driver call on any of it (the driver has freed it), and
 * nothing of the contexts that live on is touched.
 *
 * Which contexts went is asked of the driver after each call that can end one:
 * cuCtxDestroy (both names), cuDevicePrimaryCtxReset and cuDevicePrimaryCtxRelease
 * (each with and without _v2). A release that only drops the primary context's count
 * ends nothing, and drops nothing. A context is gone when cuCtxGetId no longer gives
 * the id hmo saw (CUDA 12.0 on). On an older driver, which has no ids, a destroy
 * drops what hmo kept for that handle, and a reset or a last release everything hmo
 * kept on any context (it cannot tell the device's primary context from others):
 * blocks cached in another live context then stay allocated until it goes. */
#include "cuda.h"
#include "../internal.h"

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
	hmo_cu_mem_child();
	hmo_cu_stage_child();
}

/* Without context ids: the handle a destroy ended. */
static __thread CUcontext destroyed;

static bool is_destroyed(const struct hmo_cu_ctx_ref *c)
{
	return c->h == destroyed;
}

/* After a teardown call that succeeded: dev is the device of a primary-context call,
 * or -1 for a destroy of c. */
static void after(CUcontext c, CUdevice dev)
{
	const struct hmo_cu_driver *d = hmo_cu_drv();
	unsigned flags = 0;
	int active = 1;

	if (d->ctx_get_id) {
		hmo_cu_sweep();
	} else if (dev < 0) {
		destroyed = c;
		hmo_cu_mem_forget(is_destroyed);
		hmo_cu_stage_forget(is_destroyed);
		destroyed = NULL;
	} else if (!d->primary_state || d->primary_state(dev, &flags, &active) != CUDA_SUCCESS || !active) {
		hmo_cu_forget_all();
	}
}

#define TEARDOWN(name, op, type, is_ctx)                                                                   \
	HMO_CU_WRAPPER(name, op, 0, (type x), (x), 0,                                                      \
		       if (rc == CUDA_SUCCESS && hmo_cu_state() == 1)                                      \
			       after(is_ctx ? (CUcontext)(uintptr_t)x : NULL, is_ctx ? -1 : (CUdevice)(uintptr_t)x))

TEARDOWN(cu_wrap_ctx_destroy, CU_CTX_DESTROY, CUcontext, true)
TEARDOWN(cu_wrap_ctx_destroy_v1, CU_CTX_DESTROY_V1, CUcontext, true)
TEARDOWN(cu_wrap_primary_reset, CU_PRIMARY_RESET, CUdevice, false)
TEARDOWN(cu_wrap_primary_reset_v1, CU_PRIMARY_RESET_V1, CUdevice, false)
TEARDOWN(cu_wrap_primary_release, CU_PRIMARY_RELEASE, CUdevice, false)
TEARDOWN(cu_wrap_primary_release_v1, CU_PRIMARY_RELEASE_V1, CUdevice, false)

#define EXPORT_ALIAS(name, target) \
	extern __typeof__(target) name __attribute__((alias(#target), visibility("default")))

EXPORT_ALIAS(cuCtxDestroy_v2, cu_wrap_ctx_destroy);
EXPORT_ALIAS(cuCtxDestroy, cu_wrap_ctx_destroy_v1);
EXPORT_ALIAS(cuDevicePrimaryCtxReset_v2, cu_wrap_primary_reset);
EXPORT_ALIAS(cuDevicePrimaryCtxReset, cu_wrap_primary_reset_v1);
EXPORT_ALIAS(cuDevicePrimaryCtxRelease_v2, cu_wrap_primary_release);
EXPORT_ALIAS(cuDevicePrimaryCtxRelease, cu_wrap_primary_release_v1);
