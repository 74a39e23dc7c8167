/* driver.c: the driver functions hmo calls for its own use, in one table.
 *
 * Every call hmo makes into the driver on its own account (events, context queries,
 * synchronisation, the staging copies, the real frees behind the pools) goes through
 * this table, resolved once per load of the driver (hooks.c bumps hmo_cu_generation
 * when the library goes, and the table is resolved again on next use). Each entry is
 * the driver's own function, never one of hmo's wrappers (hmo_cu_driver and
 * hmo_cu_next see to that), so hmo never counts, pools or stages its own calls.
 *
 * Contexts: hmo keeps state per context, keyed by the context's handle and its id
 * (cuCtxGetId, CUDA 12.0 on). A handle can be handed out again once its context is
 * destroyed; the id never is, so a stale handle is told from a new context. On older
 * drivers the handle alone is the key. */
#include <pthread.h>
#include <string.h>

#include "cuda.h"

/* Two tables: a new one is filled while threads may still read the one in use, then
 * published. */
static struct hmo_cu_driver tables[2];
static struct hmo_cu_driver *cur;
static struct hmo_cu_driver none;	/* before the first resolution: every entry NULL */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

#define GET(field, base, sym, pt) (*(void **)&drv.field = hmo_cu_driver(base, sym, pt))

static void resolve(struct hmo_cu_driver *t)
{
	struct hmo_cu_driver drv = { .generation = __atomic_load_n(&hmo_cu_generation, __ATOMIC_ACQUIRE) };

	GET(ctx_get_current, "cuCtxGetCurrent", "cuCtxGetCurrent", false);
	GET(ctx_push, "cuCtxPushCurrent", "cuCtxPushCurrent_v2", false);
	GET(ctx_pop, "cuCtxPopCurrent", "cuCtxPopCurrent_v2", false);
	GET(ctx_get_id, "cuCtxGetId", "cuCtxGetId", false);
	GET(ctx_get_device, "cuCtxGetDevice", "cuCtxGetDevice", false);
	GET(ctx_sync, "cuCtxSynchronize", "cuCtxSynchronize", false);
	GET(primary_state, "cuDevicePrimaryCtxGetState", "cuDevicePrimaryCtxGetState", false);
	GET(stream_get_ctx, "cuStreamGetCtx", "cuStreamGetCtx", false);
	GET(stream_capturing, "cuStreamIsCapturing", "cuStreamIsCapturing", false);
	GET(stream_sync[0], "cuStreamSynchronize", "cuStreamSynchronize", false);
	GET(stream_sync[1], "cuStreamSynchronize", "cuStreamSynchronize_ptsz", true);
	GET(event_create, "cuEventCreate", "cuEventCreate", false);
	GET(event_destroy, "cuEventDestroy", "cuEventDestroy_v2", false);
	GET(event_record[0], "cuEventRecord", "cuEventRecord", false);
	GET(event_record[1], "cuEventRecord", "cuEventRecord_ptsz", true);
	GET(event_query, "cuEventQuery", "cuEventQuery", false);
	GET(event_sync, "cuEventSynchronize", "cuEventSynchronize", false);
	GET(host_alloc, "cuMemHostAlloc", "cuMemHostAlloc", false);
	GET(mem_free, "cuMemFree", "cuMemFree_v2", false);
	GET(free_host, "cuMemFreeHost", "cuMemFreeHost", false);
	GET(ptr_attr, "cuPointerGetAttribute", "cuPointerGetAttribute", false);
	GET(range, "cuMemGetAddressRange", "cuMemGetAddressRange_v2", false);
	GET(htod_async[0], "cuMemcpyHtoDAsync", "cuMemcpyHtoDAsync_v2", false);
	GET(htod_async[1], "cuMemcpyHtoDAsync", "cuMemcpyHtoDAsync_v2_ptsz", true);
	GET(dtoh_async[0], "cuMemcpyDtoHAsync", "cuMemcpyDtoHAsync_v2", false);
	GET(dtoh_async[1], "cuMemcpyDtoHAsync", "cuMemcpyDtoHAsync_v2_ptsz", true);
	GET(copy2d_async[0], "cuMemcpy2DAsync", "cuMemcpy2DAsync_v2", false);
	GET(copy2d_async[1], "cuMemcpy2DAsync", "cuMemcpy2DAsync_v2_ptsz", true);
	*t = drv;
}

const struct hmo_cu_driver *hmo_cu_drv(void)
{
	unsigned gen = __atomic_load_n(&hmo_cu_generation, __ATOMIC_ACQUIRE);
	struct hmo_cu_driver *t = __atomic_load_n(&cur, __ATOMIC_ACQUIRE);

	if (t && t->generation == gen)
		return t;
	pthread_mutex_lock(&mu);
	t = __atomic_load_n(&cur, __ATOMIC_ACQUIRE);
	if (!t || t->generation != gen) {
		struct hmo_cu_driver *next = t == &tables[0] ? &tables[1] : &tables[0];
		resolve(next);
		/* resolved too early (no road to the driver seen yet): again next time */
		if (next->ctx_get_current)
			__atomic_store_n(&cur, next, __ATOMIC_RELEASE);
		t = next;
	}
	pthread_mutex_unlock(&mu);
	return t->ctx_get_current ? t : &none;
}

const struct hmo_cu_driver *hmo_cu_drv_now(void)
{
	struct hmo_cu_driver *t = __atomic_load_n(&cur, __ATOMIC_ACQUIRE);

	return t && t->generation == __atomic_load_n(&hmo_cu_generation, __ATOMIC_ACQUIRE) ? t : &none;
}

void hmo_cu_driver_child(void)
{
	pthread_mutex_init(&mu, NULL);
}

/* The id of context h, or its handle when the driver has no ids; 0 when h is gone. */
static unsigned long long id_of(const struct hmo_cu_driver *d, CUcontext h)
{
	unsigned long long id = 0;

	if (!h)
		return 0;
	if (!d->ctx_get_id)
		return (unsigned long long)(uintptr_t)h;
	return d->ctx_get_id(h, &id) == CUDA_SUCCESS ? id : 0;
}

bool hmo_cu_current(struct hmo_cu_ctx_ref *out)
{
	const struct hmo_cu_driver *d = hmo_cu_drv();
	CUcontext h = NULL;

	out->h = NULL;
	out->id = 0;
	if (!d->ctx_get_current || d->ctx_get_current(&h) != CUDA_SUCCESS || !h)
		return false;
	out->h = h;
	out->id = id_of(d, h);
	return out->id != 0;
}

bool hmo_cu_alive(const struct hmo_cu_ctx_ref *c)
{
	const struct hmo_cu_driver *d = hmo_cu_drv();

	return c->h && d->ctx_get_id ? id_of(d, c->h) == c->id : c->h != NULL;
}

bool hmo_cu_enter(const struct hmo_cu_ctx_ref *c, bool *pushed)
{
	const struct hmo_cu_driver *d = hmo_cu_drv();
	struct hmo_cu_ctx_ref now;

	*pushed = false;
	if (hmo_cu_current(&now) && now.h == c->h && now.id == c->id)
		return true;
	if (!hmo_cu_alive(c) || !d->ctx_push || !d->ctx_pop || d->ctx_push(c->h) != CUDA_SUCCESS)
		return false;
	*pushed = true;
	return true;
}

void hmo_cu_leave(bool pushed)
{
	const struct hmo_cu_driver *d = hmo_cu_drv();
	CUcontext c;

	if (pushed && d->ctx_pop)
		(void)d->ctx_pop(&c);
}
