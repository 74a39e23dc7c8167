/* mem.c: the allocation and query wrappers, and the device and pinned pools behind
 * them.
 *
 * Device memory (cuMemAlloc_v2/cuMemFree_v2, which cudaMalloc/cudaFree reach) and
 * pinned host memory (cuMemAllocHost_v2, cuMemHostAlloc, cuMemFreeHost: cudaMallocHost,
 * cudaHostAlloc, cudaFreeHost) are cached: a freed block is kept, and the next request
 * of the same rounded size (and, for host memory, the same flags) in the same context
 * gets it back without a driver call. Sizes are rounded up to 512 bytes, and above
 * 1 MiB to 2 MiB.
 *
 * The driver's cuMemFree waits for the work of the block's context before the memory
 * can be used again; the pool keeps that promise in the block's own context, whatever
 * context (or none) is current in the thread that frees it. The free records an event
 * on that context's legacy default stream, which every blocking stream synchronises
 * with (the per-thread default streams are blocking streams too), and the block is
 * reused only once the event has completed. Once the program has made streams that
 * do not synchronise with the legacy stream (CU_STREAM_NON_BLOCKING), the free also
 * synchronises the block's context first, as the real cuMemFree does.
 *
 * Frees return what the driver returns: a second free of a block, while it sits in
 * the pool, is CUDA_ERROR_INVALID_VALUE (the driver's answer for memory it no longer
 * has), and an interior or unknown pointer goes to the driver. Nothing is ever in
 * the pool and handed out at once.
 *
 * Free cached memory is capped (HMO_CUDA_POOL_MAX, HMO_CUDA_HOST_POOL_MAX). When any
 * allocation route (cuMemAlloc, cuMemAllocPitch, cuMemAllocAsync, cuMemAllocManaged,
 * cuMemCreate, arrays) runs out of memory while blocks are cached, they are given
 * back and the allocation is tried once more. cuMemGetInfo counts cached device
 * memory as free: it is the program's to have. A block exported through
 * cuIpcGetMemHandle, by any pointer inside it, is never cached: its free is real.
 * Queries of the range of a pooled pointer (cuMemGetAddressRange,
 * cuPointerGetAttribute) are answered with the size the program asked for.
 *
 * While a stream capture is under way anywhere in the process, the pools neither
 * hand out nor keep: an allocation or a free there is one the driver may refuse
 * (capture modes forbid them, and invalidate the capture), so it goes to the driver,
 * which answers as it would without hmo.
 *
 * The block table has one mutex, never held across a driver call that can block:
 * frees, allocations and synchronisations happen with it released, the block marked
 * as in flight meanwhile. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "../../common/fmt.h"
#include "cuda.h"
#include "../base.h"
#include "../counters.h"
#include "../os.h"
#include "../process.h"
#include "../real.h"
#include "../tracer.h"

enum { BLOCK_FREE, BLOCK_LIVE, BLOCK_CACHED, BLOCK_BUSY };

struct block {
	uintptr_t p;
	size_t size;		/* what the driver allocated: the rounded size */
	size_t want;		/* what the program asked for */
	unsigned flags;		/* cuMemHostAlloc flags (host blocks) */
	bool host, exported;
	int state;
	int dev;		/* the device of its context */
	struct hmo_cu_ctx_ref ctx;	/* current when it was made */
	CUevent ev;		/* recorded at free, in ctx; NULL if none could be made */
	uint32_t seq;		/* of the slot: see struct ref */
	bool doomed;		/* its context went while it was BUSY */
	bool stuck;		/* the driver refused to free it in this round */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct block *blocks;
static size_t nblocks, capblocks;
static struct hmo_cu_pool_stats ps;
static bool nonblocking_seen;
static bool warned_full;

void hmo_cu_note(enum hmo_cu_op op, uint64_t bytes, uint64_t t0, CUresult rc, uint64_t ptr, unsigned flags)
{
	struct hmo_cu_stat *s = &hmo_cu_stats[op];

	__atomic_fetch_add(&s->calls, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->bytes, bytes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->ns, os_now_ns() - t0, __ATOMIC_RELAXED);
	if (rc != CUDA_SUCCESS)
		__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
	if (HMO_UNLIKELY(hmo_tracing))
		hmo_trace_cuda(op, t0, bytes, ptr, flags, rc);
}

static void note(enum hmo_cu_op op, uint64_t bytes, uint64_t t0, CUresult rc)
{
	hmo_cu_note(op, bytes, t0, rc, 0, 0);
}

int hmo_cu_state(void)
{
	return __atomic_load_n(&ps.state, __ATOMIC_ACQUIRE);
}

static bool pooling(void)
{
	return hmo_opt.cuda_pool && hmo_cu_state() == 1;
}

static size_t round_size(size_t n)
{
	if (n <= ((size_t)1 << 20))
		return (n + 511) & ~(size_t)511;
	if (n > SIZE_MAX - ((size_t)2 << 20))
		return 0;
	return (n + ((size_t)2 << 20) - 1) & ~(((size_t)2 << 20) - 1);
}

/* ---- blocks: called with mu held ---------------------------------------------------- */

/* A block is named by its index and its sequence number: the table moves as it grows
 * (never hold a pointer across an unlock), and a slot is reused once its block is
 * gone, so whoever comes back to a slot after an unlock checks the number first. */
struct ref {
	long i;
	uint32_t seq;
};

static struct block *at(struct ref r)
{
	return r.i >= 0 && (size_t)r.i < nblocks && blocks[r.i].seq == r.seq ? &blocks[r.i] : NULL;
}

static struct ref ref_of(long i)
{
	return (struct ref){ i, i >= 0 ? blocks[i].seq : 0 };
}

/* A slot's block goes: the slot's next block has a new number. */
static void slot_free(struct block *b)
{
	const struct hmo_cu_driver *d = hmo_cu_drv_now();

	if (b->ev && !b->doomed && d->event_destroy)
		(void)d->event_destroy(b->ev);	/* not a blocking call */
	uint32_t seq = b->seq + 1;
	*b = (struct block){ .state = BLOCK_FREE, .seq = seq };
}

/* The block starting at p (any state but free, and not doomed: a doomed block's
 * address may be another's already), or, with inside, the live block holding p; -1
 * when none. */
static long find_block(uintptr_t p, bool host, bool inside)
{
	for (size_t i = 0; i < nblocks; i++) {
		struct block *b = &blocks[i];
		if (b->state == BLOCK_FREE || b->host != host || b->doomed)
			continue;
		if (b->p == p || (inside && b->state == BLOCK_LIVE && p > b->p && p < b->p + b->want))
			return (long)i;
	}
	return -1;
}

static long new_block(void)
{
	for (size_t i = 0; i < nblocks; i++)
		if (blocks[i].state == BLOCK_FREE)
			return (long)i;
	if (nblocks == capblocks) {
		size_t cap = capblocks ? capblocks * 2 : 256;
		hmo_guard_enter();
		struct block *t = hmo_real.realloc(blocks, cap * sizeof *t);
		hmo_guard_leave();
		if (!t)
			return -1;
		blocks = t;
		capblocks = cap;
	}
	memset(&blocks[nblocks], 0, sizeof blocks[0]);
	return (long)nblocks++;
}

/* A cached block of exactly `size` (and flags), of context ctx, whose last use has
 * finished: its event is queried (never waited for), which also brings out an error
 * the context holds (a sticky one): such a block is not handed out, and the driver
 * answers the allocation. */
static long reuse(size_t size, bool host, unsigned flags, const struct hmo_cu_ctx_ref *ctx)
{
	const struct hmo_cu_driver *d = hmo_cu_drv_now();

	for (size_t i = 0; i < nblocks; i++) {
		struct block *b = &blocks[i];
		if (b->state != BLOCK_CACHED || b->host != host || b->size != size || b->flags != flags ||
		    b->ctx.h != ctx->h || b->ctx.id != ctx->id || b->doomed)
			continue;
		if (!b->ev || !d->event_query || d->event_query(b->ev) != CUDA_SUCCESS)
			continue;	/* still in use on the device, or its context is in error */
		return (long)i;
	}
	return -1;
}

static uint64_t *cached_of(bool host)
{
	return host ? &ps.host_cached : &ps.dev_cached;
}

/* ---- giving cached blocks back ------------------------------------------------------ */

struct victim {
	uintptr_t p;
	struct ref r;
};

/* Takes cached blocks out, oldest first, until at most `keep` bytes of their kind stay
 * cached (all of them with keep = 0, and of every context); the caller frees them
 * with mu released (give_back). Called with mu held. */
static size_t take_victims(bool host, uint64_t keep, struct victim *v, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < nblocks && *cached_of(host) > keep && n < max; i++) {
		struct block *b = &blocks[i];
		if (b->state != BLOCK_CACHED || b->host != host || b->stuck)
			continue;
		b->state = BLOCK_BUSY;
		*cached_of(host) -= b->size;
		v[n++] = (struct victim){ b->p, ref_of((long)i) };
	}
	return n;
}

/* Frees the victims for real (the driver's free waits for their work), mu released.
 * Returns how many the driver took. A victim whose context went meanwhile (doomed)
 * is not freed: the driver freed it with its context, and its address may already
 * be someone else's. */
static size_t give_back(bool host, const struct victim *v, size_t n)
{
	const struct hmo_cu_driver *d = hmo_cu_drv();
	size_t freed = 0;

	for (size_t k = 0; k < n; k++) {
		pthread_mutex_lock(&mu);
		struct block *b = at(v[k].r);
		bool doomed = !b || b->doomed;
		if (doomed && b)
			slot_free(b);
		pthread_mutex_unlock(&mu);
		if (doomed)
			continue;
		CUresult rc = host ? (d->free_host ? d->free_host((void *)v[k].p) : CUDA_ERROR_NOT_INITIALIZED)
				   : (d->mem_free ? d->mem_free((CUdeviceptr)v[k].p) : CUDA_ERROR_NOT_INITIALIZED);
		pthread_mutex_lock(&mu);
		if ((b = at(v[k].r)) != NULL && b->state == BLOCK_BUSY) {
			if (rc == CUDA_SUCCESS || b->doomed) {
				if (!host && rc == CUDA_SUCCESS)
					ps.dev_released += b->size;
				slot_free(b);
				freed++;
			} else {
				b->state = BLOCK_CACHED;	/* kept: the driver still has it */
				b->stuck = true;		/* and is not asked again in this round */
				*cached_of(host) += b->size;
			}
		}
		pthread_mutex_unlock(&mu);
	}
	return freed;
}

/* Gives back every cached block of a kind: after an out-of-memory. Returns whether
 * anything was given back; ends when a round gives back nothing (a driver that
 * refuses a free, as in a context in error, does not make it loop). */
static bool release_all(bool host)
{
	struct victim v[64];
	bool any = false;

	for (;;) {
		pthread_mutex_lock(&mu);
		size_t n = take_victims(host, 0, v, 64);
		pthread_mutex_unlock(&mu);
		if (!n || !give_back(host, v, n))
			break;
		any = true;
	}
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < nblocks; i++)
		blocks[i].stuck = false;
	pthread_mutex_unlock(&mu);
	return any;
}

/* Trims a kind's cache to its cap. */
static void trim(bool host)
{
	struct victim v[16];
	uint64_t cap = host ? hmo_opt.cuda_host_pool_max : hmo_opt.cuda_pool_max;

	pthread_mutex_lock(&mu);
	size_t n = take_victims(host, cap, v, 16);
	pthread_mutex_unlock(&mu);
	give_back(host, v, n);
	pthread_mutex_lock(&mu);
	for (size_t k = 0; k < n; k++) {
		struct block *b = at(v[k].r);
		if (b)
			b->stuck = false;	/* a later trim may try it again */
	}
	pthread_mutex_unlock(&mu);
}

/* Marks block b doomed (its context went, or its address was handed out again): a
 * cached one leaves the cache, one in another thread's hands (BUSY) is left for that
 * thread to drop, any other goes. Its event is never destroyed (it went with its
 * context). Called with mu held. */
static void doom(struct block *b)
{
	if (b->state == BLOCK_FREE || b->doomed)
		return;
	b->doomed = true;
	if (b->state == BLOCK_CACHED)
		*cached_of(b->host) -= b->size;
	if (b->state != BLOCK_BUSY)
		slot_free(b);
}

/* Drops the blocks of the contexts that went. Which contexts went is asked (of the
 * driver) with mu released: the distinct contexts are read out first (the first 256;
 * blocks of any others wait for the next sweep). */
void hmo_cu_mem_forget(bool (*is_gone)(const struct hmo_cu_ctx_ref *))
{
	static __thread struct hmo_cu_ctx_ref seen[256];
	static __thread bool dead[256];
	size_t n = 0;

	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < nblocks && n < 256; i++) {
		const struct block *b = &blocks[i];
		if (b->state == BLOCK_FREE || b->doomed)
			continue;
		size_t k = 0;
		while (k < n && (seen[k].h != b->ctx.h || seen[k].id != b->ctx.id))
			k++;
		if (k == n)
			seen[n++] = b->ctx;
	}
	pthread_mutex_unlock(&mu);
	for (size_t k = 0; k < n; k++)
		dead[k] = is_gone(&seen[k]);
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < nblocks; i++)
		for (size_t k = 0; k < n; k++)
			if (dead[k] && blocks[i].ctx.h == seen[k].h && blocks[i].ctx.id == seen[k].id)
				doom(&blocks[i]);
	pthread_mutex_unlock(&mu);
}

/* The driver went (dlclose): nothing of it is kept, and its first cuInit decides
 * again. */
void hmo_cu_mem_unloaded(void)
{
	__atomic_store_n(&ps.state, 0, __ATOMIC_RELEASE);
}

/* Waits (2 s at most) until no block of a context that is about to go is in another
 * thread's hands: a real free of one after the context's end could free memory the
 * driver has given to someone else since. */
void hmo_cu_mem_quiesce(void)
{
	for (int tries = 0; tries < 2000; tries++) {
		bool busy = false;
		pthread_mutex_lock(&mu);
		for (size_t i = 0; i < nblocks && !busy; i++)
			busy = blocks[i].state == BLOCK_BUSY;
		pthread_mutex_unlock(&mu);
		if (!busy)
			return;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

void hmo_cu_mem_child(void)
{
	pthread_mutex_init(&mu, NULL);
	for (size_t i = 0; i < nblocks; i++)
		blocks[i] = (struct block){ .state = BLOCK_FREE, .seq = blocks[i].seq + 1 };
	ps.dev_cached = ps.host_cached = 0;
}

/* ---- the free of a pooled block ------------------------------------------------------ */

/* Makes block r safe to hand out again once its event completes: the event is
 * recorded in the block's own context, on its legacy stream (which waits for every
 * blocking stream), after a synchronisation of that context when the program uses
 * streams that do not wait for the legacy stream. Called with mu released, the block
 * BUSY. Returns what the driver said: an error (a context in error) makes the free
 * real, and returns the driver's code. */
static CUresult guard(struct ref r)
{
	const struct hmo_cu_driver *d = hmo_cu_drv();
	CUresult rc = CUDA_SUCCESS;
	bool pushed;

	pthread_mutex_lock(&mu);
	struct block *b = at(r);
	struct hmo_cu_ctx_ref ctx = b ? b->ctx : (struct hmo_cu_ctx_ref){ 0 };
	CUevent ev = b ? b->ev : NULL;
	pthread_mutex_unlock(&mu);
	if (!ctx.h || !hmo_cu_enter(&ctx, &pushed))
		return CUDA_ERROR_INVALID_CONTEXT;
	/* (the per-thread default streams are blocking streams: the legacy stream's event
	 * covers them) */
	if (__atomic_load_n(&nonblocking_seen, __ATOMIC_RELAXED) && d->ctx_sync)
		rc = d->ctx_sync();
	if (rc == CUDA_SUCCESS && !ev && d->event_create)
		rc = d->event_create(&ev, 2 /* CU_EVENT_DISABLE_TIMING */);
	if (rc == CUDA_SUCCESS)
		rc = ev && d->event_record[0] ? d->event_record[0](ev, NULL) : CUDA_ERROR_NOT_INITIALIZED;
	hmo_cu_leave(pushed);
	pthread_mutex_lock(&mu);
	if ((b = at(r)) != NULL && !b->doomed)
		b->ev = ev;
	else if (ev && !b && d->event_destroy)
		(void)d->event_destroy(ev);	/* not a blocking call */
	pthread_mutex_unlock(&mu);
	return rc;
}

/* The program frees p: true when it is a pooled block (*rc set), else false and the
 * caller frees it for real. */
static bool pool_free(uintptr_t p, bool host, CUresult *rc)
{
	const struct hmo_cu_driver *d = hmo_cu_drv();
	CUresult (*free_dev)(CUdeviceptr) = d->mem_free ? d->mem_free : hmo_cu_next(HMO_CUOP_MEM_FREE, 0);
	CUresult (*free_host)(void *) = d->free_host ? d->free_host : hmo_cu_next(HMO_CUOP_MEM_FREE_HOST, 0);

	pthread_mutex_lock(&mu);
	long i = p ? find_block(p, host, false) : -1;
	if (i < 0) {
		pthread_mutex_unlock(&mu);
		return false;
	}
	struct block *b = &blocks[i];
	struct ref r = ref_of(i);
	if (b->state != BLOCK_LIVE) {
		/* freed already: the driver would not know it any more */
		ps.double_frees++;
		pthread_mutex_unlock(&mu);
		*rc = CUDA_ERROR_INVALID_VALUE;
		return true;
	}
	b->state = BLOCK_BUSY;
	bool real = b->exported || hmo_cu_capturing();
	pthread_mutex_unlock(&mu);
	/* Exported through IPC (another process may map it), or a capture under way (the
	 * driver decides: a capture may forbid a free): freed for real, or kept live. */
	if (!real && (*rc = guard(r)) != CUDA_SUCCESS) {
		real = true;	/* its context is in error or gone: the driver answers */
		pthread_mutex_lock(&mu);
		b = at(r);
		bool doomed = !b || b->doomed;
		if (b && doomed)
			slot_free(b);	/* its context went meanwhile: never freed for real */
		pthread_mutex_unlock(&mu);
		if (doomed)
			return true;	/* with the guard's code */
	}
	if (real) {
		*rc = host ? (free_host ? free_host((void *)p) : CUDA_ERROR_NOT_INITIALIZED)
			   : (free_dev ? free_dev((CUdeviceptr)p) : CUDA_ERROR_NOT_INITIALIZED);
		pthread_mutex_lock(&mu);
		if ((b = at(r)) != NULL) {
			if (*rc == CUDA_SUCCESS || b->doomed)
				slot_free(b);
			else
				b->state = BLOCK_LIVE;
		}
		pthread_mutex_unlock(&mu);
		return true;
	}
	pthread_mutex_lock(&mu);
	if ((b = at(r)) != NULL && b->state == BLOCK_BUSY) {
		if (b->doomed) {
			slot_free(b);
		} else {
			b->state = BLOCK_CACHED;
			*cached_of(host) += b->size;
			if (!host && ps.dev_cached > ps.dev_peak_cached)
				ps.dev_peak_cached = ps.dev_cached;
		}
	}
	pthread_mutex_unlock(&mu);
	trim(host);
	*rc = CUDA_SUCCESS;
	return true;
}

/* ---- allocation ------------------------------------------------------------------- */

/* HMO_CUPTI: libhmo-cupti.so, beside libhmo, started once CUDA is up. */
static void start_cupti(void)
{
	static int once;
	Dl_info info;
	char path[4096];

	if (!hmo_opt.cupti || __atomic_exchange_n(&once, 1, __ATOMIC_ACQ_REL))
		return;
	if (!dladdr((void *)&start_cupti, &info) || !info.dli_fname) {
		os_warn("hmo: CUPTI unavailable: cannot tell where libhmo is");
		return;
	}
	const char *slash = strrchr(info.dli_fname, '/');
	size_t dir = slash ? (size_t)(slash - info.dli_fname) + 1 : 0;
	if (dir + sizeof "libhmo-cupti.so" > sizeof path)
		return;
	memcpy(path, info.dli_fname, dir);
	memcpy(path + dir, "libhmo-cupti.so", sizeof "libhmo-cupti.so");
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	int (*start)(void) = h ? (int (*)(void))dlsym(h, "hmo_cupti_start") : NULL;
	if (!start) {
		char line[4200];
		struct fmt_buf w;
		fmt_init(&w, line, sizeof line);
		fmt_str(&w, "hmo: CUPTI unavailable: cannot load ");
		fmt_shown(&w, path, SIZE_MAX, FMT_SHOWN_MAX);
		fmt_str(&w, " (");
		fmt_str(&w, dlerror() ? "see dlerror" : "no hmo_cupti_start");
		fmt_str(&w, "); the GPU is not traced");
		os_warn(w.p);
		return;
	}
	(void)start();	/* it says itself why it could not start */
}

CUresult cu_wrap_init(unsigned flags)
{
	CUresult (*real)(unsigned) = hmo_cu_next(HMO_CUOP_INIT, 0);
	uint64_t t0 = os_now_ns();

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	CUresult rc = real(flags);
	int none = 0;
	/* decided at the first cuInit */
	__atomic_compare_exchange_n(&ps.state, &none, rc == CUDA_SUCCESS ? 1 : rc, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_ACQUIRE);
	note(HMO_CUOP_INIT, 0, t0, rc);
	if (rc == CUDA_SUCCESS)
		start_cupti();
	return rc;
}

/* A pooled allocation of n bytes: from the cache, else from the driver through
 * `fresh` (with one retry after giving the cache back, on out-of-memory). */
static CUresult pool_alloc(enum hmo_cu_op op, bool host, unsigned flags, size_t n, uintptr_t *out,
			   CUresult (*fresh)(void *arg, size_t size, uintptr_t *p), void *arg)
{
	const struct hmo_cu_driver *d = hmo_cu_drv();
	uint64_t t0 = os_now_ns();
	struct hmo_cu_ctx_ref ctx;
	size_t size = round_size(n);
	CUdevice dev = 0;

	if (!size || hmo_cu_capturing() || !hmo_cu_current(&ctx)) {
		/* no context, a capture under way, or an impossible size: the driver says
		 * what it says, and the block is not pooled */
		uintptr_t p = 0;
		CUresult rc = fresh(arg, n, &p);
		if (rc == CUDA_SUCCESS)
			*out = p;
		note(op, n, t0, rc);
		return rc;
	}
	pthread_mutex_lock(&mu);
	long i = reuse(size, host, flags, &ctx);
	if (i >= 0) {
		struct block *b = &blocks[i];
		if (host)
			ps.host_hits++;
		else
			ps.dev_hits++;
		*cached_of(host) -= b->size;
		b->state = BLOCK_LIVE;
		b->want = n;
		b->exported = b->stuck = false;
		*out = b->p;
		pthread_mutex_unlock(&mu);
		hmo_cu_note(op, n, t0, CUDA_SUCCESS, *out, HMO_CUDA_POOL_HIT);
		return CUDA_SUCCESS;
	}
	bool any_cached = *cached_of(host) != 0;
	pthread_mutex_unlock(&mu);
	uintptr_t p = 0;
	CUresult rc = fresh(arg, size, &p);
	if (rc == CUDA_ERROR_OUT_OF_MEMORY && any_cached && release_all(host)) {
		__atomic_fetch_add(&ps.dev_oom_retries, 1, __ATOMIC_RELAXED);
		rc = fresh(arg, size, &p);
	}
	if (rc == CUDA_SUCCESS) {
		if (d->ctx_get_device)
			(void)d->ctx_get_device(&dev);
		pthread_mutex_lock(&mu);
		/* an entry at the same address is stale (its memory went by a road hmo did
		 * not see): the driver has just handed the address out again */
		for (long k; (k = find_block(p, host, false)) >= 0;)
			doom(&blocks[k]);	/* doomed: find_block skips it from now on */
		if ((i = new_block()) >= 0) {
			uint32_t seq = blocks[i].seq;
			blocks[i] = (struct block){ .p = p, .size = size, .want = n, .flags = flags, .host = host,
						    .state = BLOCK_LIVE, .dev = dev, .ctx = ctx, .seq = seq };
			if (host)
				ps.host_misses++;
			else
				ps.dev_misses++;
		}	/* else no room to record it: the program's, unpooled */
		pthread_mutex_unlock(&mu);
		*out = p;
	}
	hmo_cu_note(op, n, t0, rc, p, rc == CUDA_SUCCESS ? HMO_CUDA_POOL_NEW : 0);
	return rc;
}

static CUresult fresh_dev(void *arg, size_t size, uintptr_t *p)
{
	CUresult (*real)(CUdeviceptr *, size_t) = arg;
	CUdeviceptr d = 0;
	CUresult rc = real(&d, size);

	*p = (uintptr_t)d;
	return rc;
}

CUresult cu_wrap_mem_alloc(CUdeviceptr *p, size_t n)
{
	CUresult (*real)(CUdeviceptr *, size_t) = hmo_cu_next(HMO_CUOP_MEM_ALLOC, 0);
	uint64_t t0 = os_now_ns();

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	if (!pooling() || !p || !n) {
		CUresult rc = real(p, n);
		note(HMO_CUOP_MEM_ALLOC, n, t0, rc);
		return rc;
	}
	uintptr_t out = 0;
	CUresult rc = pool_alloc(HMO_CUOP_MEM_ALLOC, false, 0, n, &out, fresh_dev, (void *)real);
	if (rc == CUDA_SUCCESS)
		*p = (CUdeviceptr)out;
	return rc;
}

CUresult cu_wrap_mem_free(CUdeviceptr p)
{
	CUresult (*real)(CUdeviceptr) = hmo_cu_next(HMO_CUOP_MEM_FREE, 0);
	uint64_t t0 = os_now_ns();
	CUresult rc;

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	if (pool_free((uintptr_t)p, false, &rc)) {
		hmo_cu_note(HMO_CUOP_MEM_FREE, 0, t0, rc, p, 0);
		return rc;
	}
	rc = real(p);
	note(HMO_CUOP_MEM_FREE, 0, t0, rc);
	return rc;
}

/* ---- pinned host memory ------------------------------------------------------------- */

struct host_call {
	enum hmo_cu_op op;
	unsigned flags;
};

static CUresult fresh_host(void *arg, size_t size, uintptr_t *p)
{
	const struct host_call *c = arg;
	void *real = hmo_cu_next(c->op, 0), *h = NULL;
	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	CUresult rc = c->op == HMO_CUOP_MEM_ALLOC_HOST ? ((CUresult (*)(void **, size_t))real)(&h, size)
						 : ((CUresult (*)(void **, size_t, unsigned))real)(&h, size, c->flags);
	*p = (uintptr_t)h;
	return rc;
}

static CUresult host_alloc(enum hmo_cu_op op, void **p, size_t n, unsigned flags)
{
	struct host_call c = { op, flags };
	uint64_t t0 = os_now_ns();
	uintptr_t out = 0;
	CUresult rc;

	if (!hmo_cu_next(op, 0))
		return CUDA_ERROR_NOT_INITIALIZED;
	if (!pooling() || !p || !n) {
		rc = fresh_host(&c, n, &out);
		if (p && rc == CUDA_SUCCESS)
			*p = (void *)out;
		note(op, n, t0, rc);
		return rc;
	}
	rc = pool_alloc(op, true, flags, n, &out, fresh_host, &c);
	if (rc == CUDA_SUCCESS)
		*p = (void *)out;
	return rc;
}

CUresult cu_wrap_mem_alloc_host(void **p, size_t n)
{
	return host_alloc(HMO_CUOP_MEM_ALLOC_HOST, p, n, 0);
}

CUresult cu_wrap_mem_host_alloc(void **p, size_t n, unsigned flags)
{
	return host_alloc(HMO_CUOP_MEM_HOST_ALLOC, p, n, flags);
}

CUresult cu_wrap_mem_free_host(void *p)
{
	CUresult (*real)(void *) = hmo_cu_next(HMO_CUOP_MEM_FREE_HOST, 0);
	uint64_t t0 = os_now_ns();
	CUresult rc;

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	if (!pool_free((uintptr_t)p, true, &rc))
		rc = real(p);
	note(HMO_CUOP_MEM_FREE_HOST, 0, t0, rc);
	return rc;
}

/* ---- memory hmo does not pool: counted, passed through, retried after giving the
 * cache back when the device is out of memory ------------------------------------- */

/* rc of a call that allocates device memory: after an out-of-memory with device blocks
 * cached, the cache goes back and the caller tries once more (true). */
static bool retry_after(CUresult rc)
{
	bool cached;

	if (rc != CUDA_ERROR_OUT_OF_MEMORY || !pooling() || hmo_cu_capturing())
		return false;	/* (during a capture, frees are the driver's to refuse) */
	pthread_mutex_lock(&mu);
	cached = ps.dev_cached != 0;
	pthread_mutex_unlock(&mu);
	if (!cached || !release_all(false))
		return false;
	__atomic_fetch_add(&ps.dev_oom_retries, 1, __ATOMIC_RELAXED);
	return true;
}

#define ALLOC(name, op, v, params, args, bytes) \
	HMO_CU_WRAPPER(name, op, v, params, args, bytes, if (retry_after(rc)) rc = real args)
#define PASS(name, op, v, params, args, bytes) HMO_CU_WRAPPER(name, op, v, params, args, bytes, (void)0)

ALLOC(cu_wrap_mem_alloc_async, HMO_CUOP_MEM_ALLOC_ASYNC, 0, (CUdeviceptr *p, size_t n, CUstream s), (p, n, s), n)
ALLOC(cu_wrap_mem_alloc_async_pt, HMO_CUOP_MEM_ALLOC_ASYNC, 1, (CUdeviceptr *p, size_t n, CUstream s), (p, n, s), n)
ALLOC(cu_wrap_mem_alloc_managed, HMO_CUOP_MEM_ALLOC_MANAGED, 0, (CUdeviceptr *p, size_t n, unsigned f), (p, n, f), n)
ALLOC(cu_wrap_mem_create, HMO_CUOP_MEM_CREATE, 0,
      (unsigned long long *h, size_t n, const void *prop, unsigned long long f), (h, n, prop, f), n)
ALLOC(cu_wrap_mem_alloc_pitch, HMO_CUOP_MEM_ALLOC_PITCH, 0, (CUdeviceptr *p, size_t *pitch, size_t w, size_t h, unsigned e),
      (p, pitch, w, h, e), w && h && h <= SIZE_MAX / w ? w * h : 0)
ALLOC(cu_wrap_mem_alloc_from_pool, HMO_CUOP_MEM_ALLOC_FROM_POOL, 0, (CUdeviceptr *p, size_t n, void *pool, CUstream s),
      (p, n, pool, s), n)
ALLOC(cu_wrap_mem_alloc_from_pool_pt, HMO_CUOP_MEM_ALLOC_FROM_POOL, 1, (CUdeviceptr *p, size_t n, void *pool, CUstream s),
      (p, n, pool, s), n)
ALLOC(cu_wrap_array_create, HMO_CUOP_ARRAY_CREATE, 0, (CUarray *a, const void *desc), (a, desc), 0)
ALLOC(cu_wrap_array3d_create, HMO_CUOP_ARRAY3D_CREATE, 0, (CUarray *a, const void *desc), (a, desc), 0)

/* cuMemFreeAsync may free a block cuMemAlloc made: a pooled live one is the driver's
 * to free (its stream orders it), and leaves the table; one the pool holds was freed
 * already. */
static CUresult free_async(int v, CUdeviceptr p, CUstream s)
{
	CUresult (*real)(CUdeviceptr, CUstream) = hmo_cu_next(HMO_CUOP_MEM_FREE_ASYNC, v);
	uint64_t t0 = os_now_ns();
	CUresult rc;

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	pthread_mutex_lock(&mu);
	long i = p ? find_block((uintptr_t)p, false, false) : -1;
	struct ref r = ref_of(i);
	if (i >= 0 && blocks[i].state != BLOCK_LIVE) {
		pthread_mutex_unlock(&mu);
		rc = CUDA_ERROR_INVALID_VALUE;
	} else {
		if (i >= 0)
			blocks[i].state = BLOCK_BUSY;
		pthread_mutex_unlock(&mu);
		rc = real(p, s);
		pthread_mutex_lock(&mu);
		struct block *b = i >= 0 ? at(r) : NULL;
		if (b)
			rc == CUDA_SUCCESS || b->doomed ? slot_free(b) : (void)(b->state = BLOCK_LIVE);
		pthread_mutex_unlock(&mu);
	}
	note(HMO_CUOP_MEM_FREE_ASYNC, 0, t0, rc);
	return rc;
}

CUresult cu_wrap_mem_free_async(CUdeviceptr p, CUstream s) { return free_async(0, p, s); }
CUresult cu_wrap_mem_free_async_pt(CUdeviceptr p, CUstream s) { return free_async(1, p, s); }
PASS(cu_wrap_mem_map, HMO_CUOP_MEM_MAP, 0,
     (CUdeviceptr p, size_t n, size_t off, unsigned long long h, unsigned long long f), (p, n, off, h, f), n)

/* ---- queries -------------------------------------------------------------------------- */

/* Whether p lies in a pooled device block: 1 a live one (its start and the size the
 * program asked for in *base, *size), -1 one the program has freed (the pool holds
 * it, the program must not see it), 0 none. */
static int pooled(CUdeviceptr p, CUdeviceptr *base, size_t *size)
{
	int r = 0;

	if (!__atomic_load_n(&nblocks, __ATOMIC_RELAXED))
		return 0;	/* the pool has never held a block: the common case without CUDA pooling */
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < nblocks && !r; i++) {
		const struct block *b = &blocks[i];
		if (b->state == BLOCK_FREE || b->host || b->doomed || p < b->p || p - b->p >= b->size)
			continue;
		/* past what the program asked for, or freed: not the program's */
		r = b->state == BLOCK_LIVE && p - b->p < b->want ? 1 : -1;
		*base = (CUdeviceptr)b->p;
		*size = b->want;
	}
	pthread_mutex_unlock(&mu);
	return r;
}

static bool pooled_range(CUdeviceptr p, CUdeviceptr *base, size_t *size)
{
	return pooled(p, base, size) == 1;
}

bool hmo_cu_device_range_ok(CUdeviceptr p, size_t n)
{
	CUdeviceptr base;
	size_t size;
	int r = pooled(p, &base, &size);

	return r == 0 || (r == 1 && n <= size - (size_t)(p - base));
}

/* cudaPointerGetAttributes reaches this: the range attributes of a pooled block are
 * the pool's, the others the driver's. */
CUresult cu_wrap_ptr_attrs(unsigned n, int *attrs, void **data, CUdeviceptr p)
{
	CUresult (*real)(unsigned, int *, void **, CUdeviceptr) = hmo_cu_next(HMO_CUOP_PTR_ATTRS, 0);
	uint64_t t0 = os_now_ns();
	CUdeviceptr base;
	size_t size;

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	CUresult rc = real(n, attrs, data, p);
	if (rc == CUDA_SUCCESS && attrs && data && pooled_range(p, &base, &size)) {
		for (unsigned i = 0; i < n; i++) {
			if (!data[i])
				continue;
			if (attrs[i] == CU_POINTER_ATTRIBUTE_RANGE_START_ADDR)
				*(CUdeviceptr *)data[i] = base;
			else if (attrs[i] == CU_POINTER_ATTRIBUTE_RANGE_SIZE)
				*(size_t *)data[i] = size;
		}
	}
	note(HMO_CUOP_PTR_ATTRS, 0, t0, rc);
	return rc;
}

CUresult cu_wrap_range(CUdeviceptr *base, size_t *size, CUdeviceptr p)
{
	CUresult (*real)(CUdeviceptr *, size_t *, CUdeviceptr) = hmo_cu_next(HMO_CUOP_RANGE, 0);
	uint64_t t0 = os_now_ns();
	CUdeviceptr b;
	size_t n;

	int r = pooled(p, &b, &n);
	if (r) {
		if (r > 0 && base)
			*base = b;
		if (r > 0 && size)
			*size = n;
		/* a freed block is not the program's: the driver's answer for unknown memory */
		CUresult rc = r > 0 ? CUDA_SUCCESS : CUDA_ERROR_NOT_FOUND;
		note(HMO_CUOP_RANGE, 0, t0, rc);
		return rc;
	}
	CUresult rc = real ? real(base, size, p) : CUDA_ERROR_NOT_INITIALIZED;
	note(HMO_CUOP_RANGE, 0, t0, rc);
	return rc;
}

CUresult cu_wrap_ptr_attr(void *out, int attr, CUdeviceptr p)
{
	CUresult (*real)(void *, int, CUdeviceptr) = hmo_cu_next(HMO_CUOP_PTR_ATTR, 0);
	uint64_t t0 = os_now_ns();
	CUdeviceptr b;
	size_t n;
	int r = pooled(p, &b, &n);

	if (r < 0) {
		/* memory the program freed (the pool holds it): the driver's answer for
		 * memory it does not know */
		note(HMO_CUOP_PTR_ATTR, 0, t0, CUDA_ERROR_INVALID_VALUE);
		return CUDA_ERROR_INVALID_VALUE;
	}
	if (out && (attr == CU_POINTER_ATTRIBUTE_RANGE_START_ADDR || attr == CU_POINTER_ATTRIBUTE_RANGE_SIZE) && r > 0) {
		if (attr == CU_POINTER_ATTRIBUTE_RANGE_START_ADDR)
			*(CUdeviceptr *)out = b;
		else
			*(size_t *)out = n;
		note(HMO_CUOP_PTR_ATTR, 0, t0, CUDA_SUCCESS);
		return CUDA_SUCCESS;
	}
	CUresult rc = real ? real(out, attr, p) : CUDA_ERROR_NOT_INITIALIZED;
	note(HMO_CUOP_PTR_ATTR, 0, t0, rc);
	return rc;
}

/* Free device memory as the program would see it without hmo: what the driver says,
 * plus what the pool holds cached on the current device. The 90% warning is about
 * that, the program's own use. */
CUresult cu_wrap_mem_info(size_t *free_, size_t *total)
{
	CUresult (*real)(size_t *, size_t *) = hmo_cu_next(HMO_CUOP_MEM_INFO, 0);
	const struct hmo_cu_driver *d = hmo_cu_drv();
	uint64_t t0 = os_now_ns();
	CUdevice dev = 0;

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	CUresult rc = real(free_, total);
	note(HMO_CUOP_MEM_INFO, 0, t0, rc);
	if (rc != CUDA_SUCCESS || !free_ || !total)
		return rc;
	if (d->ctx_get_device && d->ctx_get_device(&dev) == CUDA_SUCCESS) {
		uint64_t cached = 0;
		pthread_mutex_lock(&mu);
		for (size_t i = 0; i < nblocks; i++)
			if (blocks[i].state == BLOCK_CACHED && !blocks[i].host && blocks[i].dev == dev)
				cached += blocks[i].size;
		pthread_mutex_unlock(&mu);
		*free_ = *free_ + cached < *total ? *free_ + cached : *total;
	}
	pthread_mutex_lock(&mu);
	ps.mem_free = *free_;
	ps.mem_total = *total;
	pthread_mutex_unlock(&mu);
	if (*total && *free_ < *total / 10 && !__atomic_exchange_n(&warned_full, true, __ATOMIC_RELAXED) &&
	    hmo_opt.stats.kind != HMO_DEST_OFF) {
		char line[160];
		struct fmt_buf w;
		fmt_init(&w, line, sizeof line);
		fmt_str(&w, "hmo: GPU memory is over 90% used by the program (");
		fmt_bytes(&w, *free_);
		fmt_str(&w, " free of ");
		fmt_bytes(&w, *total);
		fmt_str(&w, ")");
		os_warn(w.p);
	}
	return rc;
}

/* An export through any pointer inside a pooled block marks the block: another
 * process may map it, so its free is real. */
CUresult cu_wrap_ipc_get(void *handle, CUdeviceptr p)
{
	CUresult (*real)(void *, CUdeviceptr) = hmo_cu_next(HMO_CUOP_IPC_GET, 0);
	uint64_t t0 = os_now_ns();

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	pthread_mutex_lock(&mu);
	long i = find_block((uintptr_t)p, false, true);
	if (i >= 0 && blocks[i].state == BLOCK_LIVE)
		blocks[i].exported = true;
	pthread_mutex_unlock(&mu);
	CUresult rc = real(handle, p);
	note(HMO_CUOP_IPC_GET, 0, t0, rc);
	return rc;
}

/* Streams that do not synchronise with the legacy stream (CU_STREAM_NON_BLOCKING)
 * change how frees are made safe (see the top). */
#define NONBLOCKING_SEEN(flags) \
	if (rc == CUDA_SUCCESS && ((flags) & 1)) __atomic_store_n(&nonblocking_seen, true, __ATOMIC_RELAXED)
HMO_CU_WRAPPER(cu_wrap_stream_create, HMO_CUOP_STREAM_CREATE, 0, (CUstream *s, unsigned flags), (s, flags), 0,
	       NONBLOCKING_SEEN(flags))
HMO_CU_WRAPPER(cu_wrap_stream_create_prio, HMO_CUOP_STREAM_CREATE_PRIO, 0, (CUstream *s, unsigned flags, int prio),
	       (s, flags, prio), 0, NONBLOCKING_SEEN(flags))

void hmo_cu_pool_stats(struct hmo_cu_pool_stats *out)
{
	pthread_mutex_lock(&mu);
	*out = ps;
	pthread_mutex_unlock(&mu);
}

/* ---- exported, for programs linked to libcuda ------------------------------------- */

#define EXPORT_ALIAS(name, target) \
	extern __typeof__(target) name __attribute__((alias(#target), visibility("default")))

EXPORT_ALIAS(cuInit, cu_wrap_init);
EXPORT_ALIAS(cuMemAlloc_v2, cu_wrap_mem_alloc);
EXPORT_ALIAS(cuMemFree_v2, cu_wrap_mem_free);
EXPORT_ALIAS(cuMemAllocHost_v2, cu_wrap_mem_alloc_host);
EXPORT_ALIAS(cuMemHostAlloc, cu_wrap_mem_host_alloc);
EXPORT_ALIAS(cuMemFreeHost, cu_wrap_mem_free_host);
EXPORT_ALIAS(cuMemGetAddressRange_v2, cu_wrap_range);
EXPORT_ALIAS(cuPointerGetAttribute, cu_wrap_ptr_attr);
EXPORT_ALIAS(cuMemGetInfo_v2, cu_wrap_mem_info);
EXPORT_ALIAS(cuIpcGetMemHandle, cu_wrap_ipc_get);
EXPORT_ALIAS(cuStreamCreate, cu_wrap_stream_create);
EXPORT_ALIAS(cuStreamCreateWithPriority, cu_wrap_stream_create_prio);
EXPORT_ALIAS(cuPointerGetAttributes, cu_wrap_ptr_attrs);
EXPORT_ALIAS(cuMemAllocAsync, cu_wrap_mem_alloc_async);
EXPORT_ALIAS(cuMemAllocAsync_ptsz, cu_wrap_mem_alloc_async_pt);
EXPORT_ALIAS(cuMemFreeAsync, cu_wrap_mem_free_async);
EXPORT_ALIAS(cuMemFreeAsync_ptsz, cu_wrap_mem_free_async_pt);
EXPORT_ALIAS(cuMemAllocManaged, cu_wrap_mem_alloc_managed);
EXPORT_ALIAS(cuMemCreate, cu_wrap_mem_create);
EXPORT_ALIAS(cuMemMap, cu_wrap_mem_map);
EXPORT_ALIAS(cuMemAllocPitch_v2, cu_wrap_mem_alloc_pitch);
EXPORT_ALIAS(cuArrayCreate_v2, cu_wrap_array_create);
EXPORT_ALIAS(cuMemAllocFromPoolAsync, cu_wrap_mem_alloc_from_pool);
EXPORT_ALIAS(cuMemAllocFromPoolAsync_ptsz, cu_wrap_mem_alloc_from_pool_pt);
EXPORT_ALIAS(cuArray3DCreate_v2, cu_wrap_array3d_create);
