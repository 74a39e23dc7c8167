/* stage.c: the copy wrappers, and pageable host<->device copies staged through a ring
 * of pinned chunks (HMO_PIN=auto or staging).
 *
 * A copy from or to pageable memory runs at about half the speed of one from pinned
 * memory, because the driver stages it through small buffers of its own. hmo stages
 * it through HMO_STAGING_SLOTS chunks of HMO_STAGING_CHUNK pinned bytes instead, each
 * guarded by an event, so that the host copy of block n+1 overlaps the DMA of block n:
 *
 *   H2D: wait for the slot's last DMA, copy a block of the source into it, queue its
 *        DMA on the caller's stream, record the slot's event. The call returns once
 *        the whole source has been copied out (the caller may reuse it at once), as
 *        the driver's own pageable copy does; the DMA of the last blocks may still run.
 *   D2H: queue the DMA of up to one block per slot, then take them out in order,
 *        waiting for each, and queue the next; the call returns with every byte in
 *        place, as the driver's pageable D2H does.
 *
 * A 1D copy is cut into blocks of a chunk; a 2D copy into blocks of whole rows,
 * packed at the width of a row. Both go through the one pipeline below.
 *
 * A copy is staged only when staging cannot change what the program sees:
 *   - it is large (HMO_THRESHOLD), between pageable host memory and device memory;
 *   - its stream belongs to the current context: the ring, its chunks and its events
 *     are that context's (each context has its own ring, made at its first staged
 *     copy, and forgotten when the context goes, see ctx.c);
 *   - no capture is under way anywhere in the process (hmo counts the captures
 *     begun and ended), and the stream is not capturing (asked of a stream or the
 *     per-thread default stream, never of the legacy stream, for captures begun by
 *     a road hmo does not see): a capture records the call as the program made it,
 *     and in its global mode even another thread's pinning or waiting would be
 *     refused and invalidate it;
 *   - its arguments are ones the driver accepts (pitches at least the width, no
 *     overflow, the device range inside one allocation and inside what the program
 *     asked the pool for): otherwise the driver answers, with its own code;
 *   - the context's ring is free: a thread never waits for another's staging, the
 *     copy then goes straight to the driver.
 * The copies go on the caller's stream with the caller's variant (legacy or
 * per-thread default stream), so the program's stream order holds. A failed event
 * record synchronises the stream before the slot is used again: a slot is never
 * reused under a DMA it cannot see. */
#include <pthread.h>
#include <string.h>

#include "cuda.h"
#include "../os.h"
#include "../process.h"
#include "../real.h"

struct slot {
	void *mem;
	CUevent ev;
	bool pending;	/* its event was recorded and not yet waited for */
	CUstream s;	/* ... on this stream, of this variant */
	int v;
	pthread_t t;	/* ... by this thread (stream 0 of the per-thread variant is its own) */
};

/* One context's ring. */
struct ring {
	struct hmo_cu_ctx_ref ctx;
	bool used, broken;	/* broken: pinning failed once, never again in this context */
	bool doomed;		/* its context went while a thread held it: that thread resets it */
	pthread_mutex_t mu;
	struct slot slot[64];
	int nslots, next;
	size_t chunk;
};

#define MAX_RINGS 32
static struct ring rings[MAX_RINGS];
static pthread_mutex_t rings_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t st_mu = PTHREAD_MUTEX_INITIALIZER;
static struct hmo_cu_stage_stats st;
static int captures;	/* begun and not yet ended, in the whole process */

static void ring_reset(struct ring *r)
{
	r->used = r->broken = r->doomed = false;
	r->nslots = r->next = 0;
	memset(r->slot, 0, sizeof r->slot);
}

/* The ring of context ctx, locked; NULL when it is busy (another thread stages in
 * that context now) or none can be had. */
static struct ring *ring_of(const struct hmo_cu_ctx_ref *ctx)
{
	struct ring *r = NULL, *spare = NULL;

	pthread_mutex_lock(&rings_mu);
	for (int i = 0; i < MAX_RINGS && !r; i++) {
		if (!rings[i].used) {
			if (!spare)
				spare = &rings[i];
		} else if (!rings[i].doomed && rings[i].ctx.h == ctx->h && rings[i].ctx.id == ctx->id) {
			r = &rings[i];
		}
	}
	if (!r && spare) {
		r = spare;	/* its mutex: all zeros, as PTHREAD_MUTEX_INITIALIZER is */
		ring_reset(r);
		r->used = true;
		r->ctx = *ctx;
	}
	if (r && pthread_mutex_trylock(&r->mu) != 0)
		r = NULL;
	pthread_mutex_unlock(&rings_mu);
	return r;
}

void hmo_cu_stage_forget(bool (*gone)(const struct hmo_cu_ctx_ref *))
{
	struct hmo_cu_ctx_ref ctx[MAX_RINGS];
	bool dead[MAX_RINGS];

	/* which contexts went is asked (of the driver) with no lock held */
	pthread_mutex_lock(&rings_mu);
	for (int i = 0; i < MAX_RINGS; i++)
		ctx[i] = rings[i].used ? rings[i].ctx : (struct hmo_cu_ctx_ref){ 0 };
	pthread_mutex_unlock(&rings_mu);
	for (int i = 0; i < MAX_RINGS; i++)
		dead[i] = ctx[i].h && gone(&ctx[i]);
	pthread_mutex_lock(&rings_mu);
	for (int i = 0; i < MAX_RINGS; i++) {
		if (!dead[i] || !rings[i].used || rings[i].doomed || rings[i].ctx.h != ctx[i].h ||
		    rings[i].ctx.id != ctx[i].id)
			continue;
		/* its chunks and events went with the context: nothing to free. A ring in
		 * a thread's hands is left to that thread: never wait for a pipeline here */
		if (pthread_mutex_trylock(&rings[i].mu) == 0) {
			ring_reset(&rings[i]);
			pthread_mutex_unlock(&rings[i].mu);
		} else {
			rings[i].doomed = true;
		}
	}
	pthread_mutex_unlock(&rings_mu);
}

bool hmo_cu_capturing(void)
{
	return __atomic_load_n(&captures, __ATOMIC_ACQUIRE) > 0;
}

void hmo_cu_stage_unloaded(void)
{
	__atomic_store_n(&captures, 0, __ATOMIC_RELEASE);
}

void hmo_cu_stage_child(void)
{
	pthread_mutex_init(&rings_mu, NULL);
	pthread_mutex_init(&st_mu, NULL);
	for (int i = 0; i < MAX_RINGS; i++) {
		pthread_mutex_init(&rings[i].mu, NULL);
		ring_reset(&rings[i]);
	}
	captures = 0;
}

/* The ring's chunks, pinned at its first use in the current context (its own). */
static bool ring_ready(const struct hmo_cu_driver *d, struct ring *r)
{
	if (r->nslots)
		return true;
	if (r->broken || !d->host_alloc || !d->event_create || !d->event_record[0] || !d->event_sync)
		return false;
	int want = (int)hmo_opt.staging_slots;
	r->chunk = (size_t)hmo_opt.staging_chunk;
	for (int i = 0; i < want; i++) {
		if (d->host_alloc(&r->slot[i].mem, r->chunk, 0) != CUDA_SUCCESS)
			break;
		if (d->event_create(&r->slot[i].ev, 2 /* CU_EVENT_DISABLE_TIMING */) != CUDA_SUCCESS) {
			if (d->free_host)
				(void)d->free_host(r->slot[i].mem);
			break;
		}
		r->nslots = i + 1;
	}
	if (r->nslots < 2) {
		r->broken = true;	/* what it holds stays with it, and goes with the context */
		r->nslots = 0;
		return false;
	}
	pthread_mutex_lock(&st_mu);
	st.pinned += (uint64_t)r->nslots * r->chunk;
	pthread_mutex_unlock(&st_mu);
	return true;
}

/* ---- a staged copy ------------------------------------------------------------------ */

struct job {
	bool up;		/* host to device */
	bool sync;		/* a synchronous call */
	int v;			/* the caller's variant */
	CUstream s;
	size_t nblocks, per;	/* blocks, and bytes (1D) or rows (2D) in each */
	/* 1D */
	CUdeviceptr d;
	char *h;
	size_t n;
	/* 2D, or NULL */
	const CUDA_MEMCPY2D *c;
};

static size_t rows_of(const struct job *j, size_t k)
{
	size_t y0 = k * j->per;
	return j->c->Height - y0 < j->per ? j->c->Height - y0 : j->per;
}

static size_t len_of(const struct job *j, size_t k)
{
	size_t off = k * j->per;
	return j->n - off < j->per ? j->n - off : j->per;
}

/* The pageable side's address of row y of a 2D copy. */
static char *host_row(const CUDA_MEMCPY2D *c, bool up, size_t y)
{
	return up ? (char *)c->srcHost + (c->srcY + y) * c->srcPitch + c->srcXInBytes
		  : (char *)c->dstHost + (c->dstY + y) * c->dstPitch + c->dstXInBytes;
}

/* Host to slot (up) or slot to host (down), for block k. */
static void move(const struct job *j, size_t k, void *slot)
{
	if (!j->c) {
		char *h = j->h + k * j->per;
		if (j->up)
			hmo_real.memcpy(slot, h, len_of(j, k));
		else
			hmo_real.memcpy(h, slot, len_of(j, k));
		return;
	}
	size_t w = j->c->WidthInBytes, r = rows_of(j, k);
	for (size_t i = 0; i < r; i++) {
		char *h = host_row(j->c, j->up, k * j->per + i);
		if (j->up)
			hmo_real.memcpy((char *)slot + i * w, h, w);
		else
			hmo_real.memcpy(h, (char *)slot + i * w, w);
	}
}

/* Queues the DMA of block k between the slot and the device. */
static CUresult issue(const struct hmo_cu_driver *d, const struct job *j, size_t k, void *slot)
{
	if (!j->c) {
		size_t off = k * j->per;
		return j->up ? d->htod_async[j->v](j->d + off, slot, len_of(j, k), j->s)
			     : d->dtoh_async[j->v](slot, j->d + off, len_of(j, k), j->s);
	}
	CUDA_MEMCPY2D b = *j->c;
	size_t y0 = k * j->per;
	if (j->up) {
		b.srcMemoryType = CU_MEMORYTYPE_HOST;
		b.srcHost = slot;
		b.srcPitch = b.WidthInBytes;
		b.srcXInBytes = b.srcY = 0;
		b.dstY = j->c->dstY + y0;
	} else {
		b.dstMemoryType = CU_MEMORYTYPE_HOST;
		b.dstHost = slot;
		b.dstPitch = b.WidthInBytes;
		b.dstXInBytes = b.dstY = 0;
		b.srcY = j->c->srcY + y0;
	}
	b.Height = rows_of(j, k);
	return d->copy2d_async[j->v](&b, j->s);
}

static CUresult wait_slot(const struct hmo_cu_driver *d, struct slot *sl)
{
	if (!sl->pending)
		return CUDA_SUCCESS;
	sl->pending = false;
	return d->event_sync(sl->ev);
}

/* Queues block k through slot sl and records the slot's event behind it. A record that
 * fails leaves a DMA the event cannot see: the stream is synchronised, so the slot is
 * free again when the call returns (and the copy is as good as done). */
static CUresult issue_recorded(const struct hmo_cu_driver *d, const struct job *j, size_t k, struct slot *sl)
{
	CUresult rc = issue(d, j, k, sl->mem);
	if (rc != CUDA_SUCCESS)
		return rc;
	if (d->event_record[j->v](sl->ev, j->s) == CUDA_SUCCESS) {
		sl->pending = true;
		sl->s = j->s;
		sl->v = j->v;
		sl->t = pthread_self();
		return CUDA_SUCCESS;
	}
	return d->stream_sync[j->v] ? d->stream_sync[j->v](j->s) : CUDA_ERROR_NOT_INITIALIZED;
}

/* Whether the ring's slots are free of other streams' work: a slot whose DMA was
 * queued on another stream is waited for only if it is done already (queried); else
 * the copy is not staged, for that stream may be held (a host function, a gate) by
 * something this thread is still to do. */
static bool slots_free_of_others(const struct hmo_cu_driver *d, struct ring *r, const struct job *j)
{
	for (int i = 0; i < r->nslots; i++) {
		struct slot *sl = &r->slot[i];
		bool own = !j->s && j->v;	/* the per-thread default stream: each thread's */
		if (!sl->pending || (sl->s == j->s && sl->v == j->v && (!own || pthread_equal(sl->t, pthread_self()))))
			continue;
		if (!d->event_query || d->event_query(sl->ev) != CUDA_SUCCESS)
			return false;
		sl->pending = false;
	}
	return true;
}

/* The pipeline, with the ring locked. */
static CUresult run(const struct hmo_cu_driver *d, struct ring *r, const struct job *j)
{
	CUresult rc = CUDA_SUCCESS;

	if (j->up) {
		for (size_t k = 0; k < j->nblocks && rc == CUDA_SUCCESS; k++) {
			struct slot *sl = &r->slot[r->next];
			r->next = (r->next + 1) % r->nslots;
			if ((rc = wait_slot(d, sl)) == CUDA_SUCCESS) {
				move(j, k, sl->mem);
				rc = issue_recorded(d, j, k, sl);
			}
		}
		return rc;
	}
	/* Down: every slot's earlier DMA first, as its chunk is overwritten; then block k
	 * goes through slot k % nslots, nslots blocks in flight. */
	for (int i = 0; i < r->nslots && rc == CUDA_SUCCESS; i++)
		rc = wait_slot(d, &r->slot[i]);
	size_t issued = 0, n = (size_t)r->nslots;
	for (size_t k = 0; k < j->nblocks && rc == CUDA_SUCCESS; k++) {
		for (; issued < j->nblocks && issued < k + n && rc == CUDA_SUCCESS; issued++)
			rc = issue_recorded(d, j, issued, &r->slot[issued % n]);
		struct slot *sl = &r->slot[k % n];
		if (rc == CUDA_SUCCESS && (rc = wait_slot(d, sl)) == CUDA_SUCCESS)
			move(j, k, sl->mem);
	}
	r->next = 0;
	return rc;
}

/* Whether [p, p+n) lies in one device allocation, as the driver sees it (what the
 * program asked the pool for, the copy wrappers have checked already). */
static bool device_ok(const struct hmo_cu_driver *d, CUdeviceptr p, size_t n)
{
	CUdeviceptr base = 0;
	size_t size = 0;

	return d->range && d->range(&base, &size, p) == CUDA_SUCCESS && p >= base && n <= size - (size_t)(p - base);
}

/* Stages j if it is one to stage (see the top): true with *rc its result, else false
 * and the caller makes the copy itself. host/dev/span: the two sides' extent. */
static bool stage(struct job *j, const void *host, CUdeviceptr dev, size_t span, CUresult *rc)
{
	const struct hmo_cu_driver *d;
	struct hmo_cu_ctx_ref cur;
	unsigned type = 0;
	int cap = 0;

	if (hmo_opt.pin == HMO_PIN_OFF || span < hmo_opt.threshold || !host || hmo_cu_state() != 1 ||
	    hmo_cu_capturing())
		return false;
	d = hmo_cu_drv();
	if (!d->htod_async[j->v] || !d->dtoh_async[j->v] || !d->copy2d_async[j->v] || !d->event_record[j->v] ||
	    !hmo_cu_current(&cur))
		return false;
	/* pinned (or unknown to this driver): the driver's own path */
	if (!d->ptr_attr || d->ptr_attr(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, (CUdeviceptr)(uintptr_t)host) ==
				    CUDA_SUCCESS)
		return false;
	/* the stream must be the current context's */
	CUstream s = j->s;
	if (s && s != CU_STREAM_LEGACY && s != CU_STREAM_PER_THREAD) {
		CUcontext sc = NULL;
		if (!d->stream_get_ctx || d->stream_get_ctx(s, &sc) != CUDA_SUCCESS || sc != cur.h)
			return false;
	}
	/* nor capturing (no capture anywhere, above), asked of the stream the call would
	 * use (never of the legacy one: that is an implicit dependency of its own) */
	CUstream q = !s && j->v ? CU_STREAM_PER_THREAD : s;
	if (q && q != CU_STREAM_LEGACY && d->stream_capturing &&
		   (d->stream_capturing(q, &cap) != CUDA_SUCCESS || cap != CU_STREAM_CAPTURE_STATUS_NONE)) {
		return false;
	}
	if (!device_ok(d, dev, j->c ? span : j->n))
		return false;
	struct ring *r = ring_of(&cur);
	if (!r) {
		pthread_mutex_lock(&st_mu);
		st.busy++;
		pthread_mutex_unlock(&st_mu);
		return false;
	}
	bool ok = ring_ready(d, r) && (!j->c || j->c->WidthInBytes <= r->chunk) && slots_free_of_others(d, r, j);
	if (ok) {
		j->per = j->c ? r->chunk / j->c->WidthInBytes : r->chunk;
		j->nblocks = j->c ? (j->c->Height + j->per - 1) / j->per : (j->n + j->per - 1) / j->per;
		/* a synchronous upload from pageable memory first waits for the stream's
		 * earlier work, as the driver's does (a kernel may still be writing what the
		 * program reads next) */
		*rc = j->sync && j->up && d->stream_sync[j->v] ? d->stream_sync[j->v](NULL) : CUDA_SUCCESS;
		if (*rc == CUDA_SUCCESS)
			*rc = run(d, r, j);
	}
	pthread_mutex_lock(&rings_mu);
	if (r->doomed)
		ring_reset(r);	/* its context went meanwhile */
	pthread_mutex_unlock(&rings_mu);
	pthread_mutex_unlock(&r->mu);
	if (ok) {
		pthread_mutex_lock(&st_mu);
		if (j->up) {
			st.htod++;
			st.htod_bytes += span;
		} else {
			st.dtoh++;
			st.dtoh_bytes += span;
		}
		pthread_mutex_unlock(&st_mu);
	}
	return ok;
}

void hmo_cu_stage_stats(struct hmo_cu_stage_stats *out)
{
	pthread_mutex_lock(&st_mu);
	*out = st;
	pthread_mutex_unlock(&st_mu);
	int n = __atomic_load_n(&captures, __ATOMIC_ACQUIRE);
	out->open_captures = n > 0 ? (uint64_t)n : 0;
}

/* ---- the copy wrappers: staged or passed through, counted either way ----------------- */

static void note_staged(enum hmo_cu_op op, uint64_t bytes, uint64_t t0, CUresult rc, uint64_t dev)
{
	struct hmo_cu_stat *s = &hmo_cu_stats[op];

	__atomic_fetch_add(&s->staged, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->staged_bytes, bytes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->staged_ns, os_now_ns() - t0, __ATOMIC_RELAXED);
	hmo_cu_note(op, bytes, t0, rc, dev, HMO_CUDA_STAGED);
}

/* H2D and D2H, synchronous or not. A device range that runs past what the program
 * asked the pool for is refused as the driver refuses one past an allocation. */
static CUresult copy1d(enum hmo_cu_op op, int v, bool up, CUdeviceptr d, void *h, size_t n, CUstream s)
{
	uint64_t t0 = os_now_ns();
	struct job j = { .up = up, .sync = op == HMO_CUOP_HTOD || op == HMO_CUOP_DTOH, .v = v, .s = s, .d = d, .h = h, .n = n };
	CUresult rc;

	if (n && n <= SIZE_MAX / 2 && !hmo_cu_device_range_ok(d, n)) {
		rc = CUDA_ERROR_INVALID_VALUE;
	} else if (n <= SIZE_MAX / 2 && stage(&j, h, d, n, &rc)) {
		note_staged(op, n, t0, rc, d);
		return rc;
	} else if (op == HMO_CUOP_HTOD) {
		CUresult (*real)(CUdeviceptr, const void *, size_t) = hmo_cu_next(op, v);
		rc = real ? real(d, h, n) : CUDA_ERROR_NOT_INITIALIZED;
	} else if (op == HMO_CUOP_DTOH) {
		CUresult (*real)(void *, CUdeviceptr, size_t) = hmo_cu_next(op, v);
		rc = real ? real(h, d, n) : CUDA_ERROR_NOT_INITIALIZED;
	} else if (op == HMO_CUOP_HTOD_ASYNC) {
		CUresult (*real)(CUdeviceptr, const void *, size_t, CUstream) = hmo_cu_next(op, v);
		rc = real ? real(d, h, n, s) : CUDA_ERROR_NOT_INITIALIZED;
	} else {
		CUresult (*real)(void *, CUdeviceptr, size_t, CUstream) = hmo_cu_next(op, v);
		rc = real ? real(h, d, n, s) : CUDA_ERROR_NOT_INITIALIZED;
	}
	hmo_cu_note(op, n, t0, rc, d, 0);
	return rc;
}

CUresult cu_wrap_htod(CUdeviceptr d, const void *h, size_t n) { return copy1d(HMO_CUOP_HTOD, 0, true, d, (void *)h, n, NULL); }
CUresult cu_wrap_htod_pt(CUdeviceptr d, const void *h, size_t n) { return copy1d(HMO_CUOP_HTOD, 1, true, d, (void *)h, n, NULL); }
CUresult cu_wrap_dtoh(void *h, CUdeviceptr d, size_t n) { return copy1d(HMO_CUOP_DTOH, 0, false, d, h, n, NULL); }
CUresult cu_wrap_dtoh_pt(void *h, CUdeviceptr d, size_t n) { return copy1d(HMO_CUOP_DTOH, 1, false, d, h, n, NULL); }
CUresult cu_wrap_htod_async(CUdeviceptr d, const void *h, size_t n, CUstream s)
{
	return copy1d(HMO_CUOP_HTOD_ASYNC, 0, true, d, (void *)h, n, s);
}
CUresult cu_wrap_htod_async_pt(CUdeviceptr d, const void *h, size_t n, CUstream s)
{
	return copy1d(HMO_CUOP_HTOD_ASYNC, 1, true, d, (void *)h, n, s);
}
CUresult cu_wrap_dtoh_async(void *h, CUdeviceptr d, size_t n, CUstream s)
{
	return copy1d(HMO_CUOP_DTOH_ASYNC, 0, false, d, h, n, s);
}
CUresult cu_wrap_dtoh_async_pt(void *h, CUdeviceptr d, size_t n, CUstream s)
{
	return copy1d(HMO_CUOP_DTOH_ASYNC, 1, false, d, h, n, s);
}

/* The bytes one side of a 2D copy spans from its start, or 0 when that overflows. */
static size_t span2d(size_t pitch, size_t w, size_t h)
{
	if (!h || !w)
		return 0;
	if (h - 1 > (SIZE_MAX - w) / (pitch ? pitch : 1))
		return 0;
	return (h - 1) * pitch + w;
}

/* cuMemcpy2D and its Async form: staged between pageable memory and the device by
 * blocks of whole rows, when the driver would accept the copy as given. */
static CUresult copy2d(enum hmo_cu_op op, int v, const CUDA_MEMCPY2D *c, CUstream s)
{
	uint64_t t0 = os_now_ns(), n = 0;
	CUresult rc;

	if (c && c->Height && c->WidthInBytes <= SIZE_MAX / c->Height)
		n = c->WidthInBytes * c->Height;
	bool up = c && c->srcMemoryType == CU_MEMORYTYPE_HOST && c->dstMemoryType == CU_MEMORYTYPE_DEVICE;
	bool down = c && c->srcMemoryType == CU_MEMORYTYPE_DEVICE && c->dstMemoryType == CU_MEMORYTYPE_HOST;
	if ((up || down) && c->WidthInBytes <= c->srcPitch && c->WidthInBytes <= c->dstPitch) {
		size_t hspan = span2d(up ? c->srcPitch : c->dstPitch, c->WidthInBytes, c->Height);
		size_t dspan = span2d(up ? c->dstPitch : c->srcPitch, c->WidthInBytes, c->Height);
		size_t hoff = up ? c->srcY * c->srcPitch + c->srcXInBytes : c->dstY * c->dstPitch + c->dstXInBytes;
		size_t doff = up ? c->dstY * c->dstPitch + c->dstXInBytes : c->srcY * c->srcPitch + c->srcXInBytes;
		CUdeviceptr dev = (up ? c->dstDevice : c->srcDevice) + doff;
		const void *host = (const char *)(up ? c->srcHost : c->dstHost) + hoff;
		struct job j = { .up = up, .sync = op == HMO_CUOP_2D, .v = v, .s = s, .c = c };
		if (dspan && !hmo_cu_device_range_ok(dev, dspan)) {
			/* past what the program asked the pool for: refused as past an allocation */
			hmo_cu_note(op, n, t0, CUDA_ERROR_INVALID_VALUE, dev, 0);
			return CUDA_ERROR_INVALID_VALUE;
		}
		if (hspan && dspan && n >= hmo_opt.threshold && stage(&j, host, dev, dspan, &rc)) {
			note_staged(op, n, t0, rc, dev);
			return rc;
		}
	}
	if (op == HMO_CUOP_2D_ASYNC) {
		CUresult (*real)(const CUDA_MEMCPY2D *, CUstream) = hmo_cu_next(op, v);
		rc = real ? real(c, s) : CUDA_ERROR_NOT_INITIALIZED;
	} else {
		CUresult (*real)(const CUDA_MEMCPY2D *) = hmo_cu_next(op, v);
		rc = real ? real(c) : CUDA_ERROR_NOT_INITIALIZED;
	}
	hmo_cu_note(op, n, t0, rc, 0, 0);
	return rc;
}

CUresult cu_wrap_copy2d(const CUDA_MEMCPY2D *c) { return copy2d(HMO_CUOP_2D, 0, c, NULL); }
CUresult cu_wrap_copy2d_pt(const CUDA_MEMCPY2D *c) { return copy2d(HMO_CUOP_2D, 1, c, NULL); }
CUresult cu_wrap_copy2d_async(const CUDA_MEMCPY2D *c, CUstream s) { return copy2d(HMO_CUOP_2D_ASYNC, 0, c, s); }
CUresult cu_wrap_copy2d_async_pt(const CUDA_MEMCPY2D *c, CUstream s) { return copy2d(HMO_CUOP_2D_ASYNC, 1, c, s); }

/* ---- captures: counted, so that the legacy stream is never asked about -------------- */

#define BEGIN(name, op, v, params, args) \
	HMO_CU_WRAPPER(name, op, v, params, args, 0, if (rc == CUDA_SUCCESS) __atomic_add_fetch(&captures, 1, __ATOMIC_ACQ_REL))

BEGIN(cu_wrap_begin_capture_v1, HMO_CUOP_BEGIN_CAPTURE_V1, 0, (CUstream s), (s))
BEGIN(cu_wrap_begin_capture_v1_pt, HMO_CUOP_BEGIN_CAPTURE_V1, 1, (CUstream s), (s))

BEGIN(cu_wrap_begin_capture, HMO_CUOP_BEGIN_CAPTURE, 0, (CUstream s, int mode), (s, mode))
BEGIN(cu_wrap_begin_capture_pt, HMO_CUOP_BEGIN_CAPTURE, 1, (CUstream s, int mode), (s, mode))
BEGIN(cu_wrap_begin_capture_to_graph, HMO_CUOP_BEGIN_CAPTURE_TO_GRAPH, 0,
      (CUstream s, void *g, const void *deps, const void *data, size_t n, int mode), (s, g, deps, data, n, mode))
BEGIN(cu_wrap_begin_capture_to_graph_pt, HMO_CUOP_BEGIN_CAPTURE_TO_GRAPH, 1,
      (CUstream s, void *g, const void *deps, const void *data, size_t n, int mode), (s, g, deps, data, n, mode))

/* Whether the end call ended a capture: asked of the stream (never the legacy one,
 * which never captures); without the question, when the end succeeded or reported
 * the capture invalidated (901). */
static void capture_ended(int v, CUstream s, CUresult rc)
{
	const struct hmo_cu_driver *d = hmo_cu_drv();
	CUstream q = !s && v ? CU_STREAM_PER_THREAD : s;
	int cap = 0;

	if (q && q != CU_STREAM_LEGACY && d->stream_capturing && d->stream_capturing(q, &cap) == CUDA_SUCCESS) {
		if (cap != CU_STREAM_CAPTURE_STATUS_NONE)
			return;
	} else if (rc != CUDA_SUCCESS && rc != 901 /* CUDA_ERROR_STREAM_CAPTURE_INVALIDATED */) {
		return;
	}
	int n = __atomic_load_n(&captures, __ATOMIC_ACQUIRE);
	while (n > 0 && !__atomic_compare_exchange_n(&captures, &n, n - 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

HMO_CU_WRAPPER(cu_wrap_end_capture, HMO_CUOP_END_CAPTURE, 0, (CUstream s, void **g), (s, g), 0, capture_ended(0, s, rc))
HMO_CU_WRAPPER(cu_wrap_end_capture_pt, HMO_CUOP_END_CAPTURE, 1, (CUstream s, void **g), (s, g), 0, capture_ended(1, s, rc))

#define EXPORT_ALIAS(name, target) \
	extern __typeof__(target) name __attribute__((alias(#target), visibility("default")))

EXPORT_ALIAS(cuMemcpyHtoD_v2, cu_wrap_htod);
EXPORT_ALIAS(cuMemcpyDtoH_v2, cu_wrap_dtoh);
EXPORT_ALIAS(cuMemcpyHtoDAsync_v2, cu_wrap_htod_async);
EXPORT_ALIAS(cuMemcpyDtoHAsync_v2, cu_wrap_dtoh_async);
EXPORT_ALIAS(cuMemcpy2D_v2, cu_wrap_copy2d);
EXPORT_ALIAS(cuMemcpy2DAsync_v2, cu_wrap_copy2d_async);
EXPORT_ALIAS(cuMemcpyHtoD_v2_ptds, cu_wrap_htod_pt);
EXPORT_ALIAS(cuMemcpyDtoH_v2_ptds, cu_wrap_dtoh_pt);
EXPORT_ALIAS(cuMemcpyHtoDAsync_v2_ptsz, cu_wrap_htod_async_pt);
EXPORT_ALIAS(cuMemcpyDtoHAsync_v2_ptsz, cu_wrap_dtoh_async_pt);
EXPORT_ALIAS(cuMemcpy2D_v2_ptds, cu_wrap_copy2d_pt);
EXPORT_ALIAS(cuMemcpy2DAsync_v2_ptsz, cu_wrap_copy2d_async_pt);
EXPORT_ALIAS(cuStreamBeginCapture, cu_wrap_begin_capture_v1);
EXPORT_ALIAS(cuStreamBeginCapture_ptsz, cu_wrap_begin_capture_v1_pt);
EXPORT_ALIAS(cuStreamBeginCapture_v2, cu_wrap_begin_capture);
EXPORT_ALIAS(cuStreamBeginCapture_v2_ptsz, cu_wrap_begin_capture_pt);
EXPORT_ALIAS(cuStreamBeginCaptureToGraph, cu_wrap_begin_capture_to_graph);
EXPORT_ALIAS(cuStreamBeginCaptureToGraph_ptsz, cu_wrap_begin_capture_to_graph_pt);
EXPORT_ALIAS(cuStreamEndCapture, cu_wrap_end_capture);
EXPORT_ALIAS(cuStreamEndCapture_ptsz, cu_wrap_end_capture_pt);
