/* cudastage.c: pageable host<->device copies through a ring of pinned chunks
 * (HMO_PIN=auto or staging).
 *
 * A copy from or to pageable memory runs at about half the speed of one from pinned
 * memory, because the driver stages it through small buffers of its own. hmo stages
 * it through HMO_STAGING_SLOTS chunks of HMO_STAGING_CHUNK pinned bytes instead, each
 * guarded by an event, so that the host copy of chunk n+1 overlaps the DMA of chunk n:
 *
 *   H2D: wait for the slot's last DMA, memcpy a chunk of the source into it, queue its
 *        DMA on the caller's stream, record the slot's event. The call returns once
 *        the whole source has been copied out (the caller may reuse it at once), as
 *        the driver's own pageable copy does; the DMA of the last chunks may still run.
 *   D2H: queue the DMA of up to one chunk per slot, then take them out in order,
 *        waiting for each, and queue the next; the call returns with every byte in
 *        place, as the driver's pageable D2H does.
 *
 * The copies go on the caller's stream with the caller's variant (legacy or
 * per-thread default stream), so the program's stream order holds. Nothing is staged
 * for copies below HMO_THRESHOLD, from or to memory that is already pinned, or on a
 * stream being captured into a graph; if a chunk cannot be pinned, the copy passes
 * straight through. */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cuda.h"
#include "internal.h"
#include "pool.h"

struct slot {
	void *mem;
	CUevent ev;
	bool pending;	/* its event was recorded and not yet waited for */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct slot ring[64];
static int nslots;
static size_t chunk;
static int next;
static bool broken;	/* pinning the ring failed once: never again */
static struct hmo_cu_stage_stats st;

static struct {
	CUresult (*host_alloc)(void **, size_t, unsigned);
	CUresult (*event_create)(CUevent *, unsigned);
	CUresult (*event_record[2])(CUevent, CUstream);
	CUresult (*event_sync)(CUevent);
	CUresult (*ptr_attr)(void *, int, CUdeviceptr);
	CUresult (*capturing)(CUstream, int *);
	CUresult (*host_register)(void *, size_t, unsigned);
	CUresult (*host_unregister)(void *);
	bool done;
} drv;

static void resolve(void)
{
	if (drv.done)
		return;
	/* the real cuMemHostAlloc: the ring is hmo's own, never in the pinned pool */
	*(void **)&drv.host_alloc = hmo_cu_next(CU_MEM_HOST_ALLOC, 0);
	if (!drv.host_alloc)
		*(void **)&drv.host_alloc = hmo_cu_driver("cuMemHostAlloc", "cuMemHostAlloc", false);
	*(void **)&drv.event_create = hmo_cu_driver("cuEventCreate", "cuEventCreate", false);
	*(void **)&drv.event_record[0] = hmo_cu_driver("cuEventRecord", "cuEventRecord", false);
	*(void **)&drv.event_record[1] = hmo_cu_driver("cuEventRecord", "cuEventRecord_ptsz", true);
	if (!drv.event_record[1])
		drv.event_record[1] = drv.event_record[0];
	*(void **)&drv.event_sync = hmo_cu_driver("cuEventSynchronize", "cuEventSynchronize", false);
	/* the real query: hmo's wrapper answers range questions only, but the real one
	 * is the one that knows what is pinned */
	*(void **)&drv.ptr_attr = hmo_cu_next(CU_PTR_ATTR, 0);
	if (!drv.ptr_attr)
		*(void **)&drv.ptr_attr = hmo_cu_driver("cuPointerGetAttribute", "cuPointerGetAttribute", false);
	*(void **)&drv.capturing = hmo_cu_driver("cuStreamIsCapturing", "cuStreamIsCapturing", false);
	*(void **)&drv.host_register = hmo_cu_driver("cuMemHostRegister", "cuMemHostRegister_v2", false);
	*(void **)&drv.host_unregister = hmo_cu_driver("cuMemHostUnregister", "cuMemHostUnregister", false);
	drv.done = true;
}

/* The ring, pinned on first use (portable, so every context can use it). */
static bool ring_ready(void)
{
	if (nslots)
		return true;
	if (broken || !drv.host_alloc || !drv.event_create || !drv.event_record[0] || !drv.event_sync)
		return false;
	int want = (int)hmo_opt.staging_slots;
	chunk = (size_t)hmo_opt.staging_chunk;
	for (int i = 0; i < want; i++) {
		if (drv.host_alloc(&ring[i].mem, chunk, 1 /* CU_MEMHOSTALLOC_PORTABLE */) != CUDA_SUCCESS ||
		    drv.event_create(&ring[i].ev, 2 /* CU_EVENT_DISABLE_TIMING */) != CUDA_SUCCESS)
			break;
		nslots = i + 1;
	}
	if (nslots < 2) {
		broken = true;	/* the pinned memory it holds stays with it */
		nslots = 0;
		return false;
	}
	st.pinned = (uint64_t)nslots * chunk;
	return true;
}

/* Whether a copy of n bytes to or from host memory h on stream s is one to stage:
 * large, pageable, not being captured. */
static bool wanted(const void *h, size_t n, CUstream s)
{
	unsigned type = 0;
	int cap = 0;

	if (hmo_opt.pin == HMO_PIN_OFF || n < hmo_opt.threshold || !h || hmo_cu_state() != 1)
		return false;
	resolve();
	if (!drv.ptr_attr || drv.ptr_attr(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, (CUdeviceptr)(uintptr_t)h) ==
				     CUDA_SUCCESS)
		return false;	/* pinned (or unknown to this driver): the driver's own path */
	if (s && drv.capturing && drv.capturing(s, &cap) == CUDA_SUCCESS && cap)
		return false;
	return true;
}

static CUresult wait_slot(struct slot *sl)
{
	if (!sl->pending)
		return CUDA_SUCCESS;
	sl->pending = false;
	return drv.event_sync(sl->ev);
}

bool hmo_stage_htod(CUresult (*async)(CUdeviceptr, const void *, size_t, CUstream), int variant, CUdeviceptr d,
		    const void *h, size_t n, CUstream s, CUresult *rc)
{
	if (!async || !wanted(h, n, s))
		return false;
	pthread_mutex_lock(&mu);
	if (!ring_ready()) {
		pthread_mutex_unlock(&mu);
		return false;
	}
	*rc = CUDA_SUCCESS;
	for (size_t off = 0; off < n && *rc == CUDA_SUCCESS; off += chunk) {
		struct slot *sl = &ring[next];
		size_t len = n - off < chunk ? n - off : chunk;
		next = (next + 1) % nslots;
		if ((*rc = wait_slot(sl)) != CUDA_SUCCESS)
			break;
		hmo_real.memcpy(sl->mem, (const char *)h + off, len);
		if ((*rc = async(d + off, sl->mem, len, s)) != CUDA_SUCCESS)
			break;
		*rc = drv.event_record[variant](sl->ev, s);
		sl->pending = *rc == CUDA_SUCCESS;
	}
	st.htod++;
	st.htod_bytes += n;
	pthread_mutex_unlock(&mu);
	return true;
}

bool hmo_stage_dtoh(CUresult (*async)(void *, CUdeviceptr, size_t, CUstream), int variant, void *h,
		    CUdeviceptr d, size_t n, CUstream s, CUresult *rc)
{
	if (!async || !wanted(h, n, s))
		return false;
	pthread_mutex_lock(&mu);
	if (!ring_ready()) {
		pthread_mutex_unlock(&mu);
		return false;
	}
	/* The slots are all waited for first: their earlier H2D chunks must be done
	 * before they are overwritten. Chunk k goes through slot k % nslots. */
	*rc = CUDA_SUCCESS;
	for (int i = 0; i < nslots && *rc == CUDA_SUCCESS; i++)
		*rc = wait_slot(&ring[i]);
	size_t nchunks = (n + chunk - 1) / chunk, issued = 0;
	for (size_t k = 0; k < nchunks && *rc == CUDA_SUCCESS; k++) {
		/* keep every slot busy: queue the DMAs of the chunks ahead */
		while (issued < nchunks && issued < k + (size_t)nslots && *rc == CUDA_SUCCESS) {
			struct slot *sl = &ring[issued % (size_t)nslots];
			size_t off = issued * chunk, len = n - off < chunk ? n - off : chunk;
			if ((*rc = async(sl->mem, d + off, len, s)) == CUDA_SUCCESS &&
			    (*rc = drv.event_record[variant](sl->ev, s)) == CUDA_SUCCESS)
				sl->pending = true;
			issued++;
		}
		struct slot *sl = &ring[k % (size_t)nslots];
		size_t off = k * chunk, len = n - off < chunk ? n - off : chunk;
		if (*rc == CUDA_SUCCESS && (*rc = wait_slot(sl)) == CUDA_SUCCESS)
			hmo_real.memcpy((char *)h + off, sl->mem, len);
	}
	next = 0;
	st.dtoh++;
	st.dtoh_bytes += n;
	pthread_mutex_unlock(&mu);
	return true;
}

/* 2D copies between pageable host memory and the device: blocks of whole rows go
 * through the slots, packed at the width of a row. A row wider than a chunk, array
 * memory, or unified addressing pass straight through. */
bool hmo_stage_2d(CUresult (*async)(const CUDA_MEMCPY2D *, CUstream), int variant, const CUDA_MEMCPY2D *c,
		  CUstream s, CUresult *rc)
{
	if (!async || !c || !c->WidthInBytes || !c->Height)
		return false;
	bool up = c->srcMemoryType == CU_MEMORYTYPE_HOST && c->dstMemoryType == CU_MEMORYTYPE_DEVICE;
	bool down = c->srcMemoryType == CU_MEMORYTYPE_DEVICE && c->dstMemoryType == CU_MEMORYTYPE_HOST;
	size_t w = c->WidthInBytes, n = w * c->Height;
	if (!(up || down) || c->Height > SIZE_MAX / w)
		return false;
	const void *host = up ? (const char *)c->srcHost + c->srcY * c->srcPitch + c->srcXInBytes
			      : (const char *)c->dstHost + c->dstY * c->dstPitch + c->dstXInBytes;
	if (!wanted(host, n, s))
		return false;
	pthread_mutex_lock(&mu);
	if (!ring_ready() || w > chunk) {
		pthread_mutex_unlock(&mu);
		return false;
	}
	size_t rows = chunk / w, nblocks = (c->Height + rows - 1) / rows;
	*rc = CUDA_SUCCESS;
	if (up) {
		for (size_t k = 0; k < nblocks && *rc == CUDA_SUCCESS; k++) {
			struct slot *sl = &ring[next];
			size_t y0 = k * rows, r = c->Height - y0 < rows ? c->Height - y0 : rows;
			next = (next + 1) % nslots;
			if ((*rc = wait_slot(sl)) != CUDA_SUCCESS)
				break;
			for (size_t i = 0; i < r; i++)
				hmo_real.memcpy((char *)sl->mem + i * w,
						(const char *)c->srcHost + (c->srcY + y0 + i) * c->srcPitch + c->srcXInBytes, w);
			CUDA_MEMCPY2D b = *c;
			b.srcHost = sl->mem;
			b.srcPitch = w;
			b.srcXInBytes = 0;
			b.srcY = 0;
			b.dstY = c->dstY + y0;
			b.Height = r;
			if ((*rc = async(&b, s)) != CUDA_SUCCESS)
				break;
			*rc = drv.event_record[variant](sl->ev, s);
			sl->pending = *rc == CUDA_SUCCESS;
		}
		st.htod++;
		st.htod_bytes += n;
	} else {
		for (int i = 0; i < nslots && *rc == CUDA_SUCCESS; i++)
			*rc = wait_slot(&ring[i]);
		size_t issued = 0;
		for (size_t k = 0; k < nblocks && *rc == CUDA_SUCCESS; k++) {
			while (issued < nblocks && issued < k + (size_t)nslots && *rc == CUDA_SUCCESS) {
				struct slot *sl = &ring[issued % (size_t)nslots];
				size_t y0 = issued * rows, r = c->Height - y0 < rows ? c->Height - y0 : rows;
				CUDA_MEMCPY2D b = *c;
				b.dstHost = sl->mem;
				b.dstPitch = w;
				b.dstXInBytes = 0;
				b.dstY = 0;
				b.srcY = c->srcY + y0;
				b.Height = r;
				if ((*rc = async(&b, s)) == CUDA_SUCCESS &&
				    (*rc = drv.event_record[variant](sl->ev, s)) == CUDA_SUCCESS)
					sl->pending = true;
				issued++;
			}
			struct slot *sl = &ring[k % (size_t)nslots];
			size_t y0 = k * rows, r = c->Height - y0 < rows ? c->Height - y0 : rows;
			if (*rc != CUDA_SUCCESS || (*rc = wait_slot(sl)) != CUDA_SUCCESS)
				break;
			for (size_t i = 0; i < r; i++)
				hmo_real.memcpy((char *)c->dstHost + (c->dstY + y0 + i) * c->dstPitch + c->dstXInBytes,
						(const char *)sl->mem + i * w, w);
		}
		next = 0;
		st.dtoh++;
		st.dtoh_bytes += n;
	}
	pthread_mutex_unlock(&mu);
	return true;
}

/* ---- registration of frame-pool memory (HMO_PIN=auto|register) -----------------
 * A frame that hmo's pool handed out lies in a region that ext_alloc mapped, which
 * lives as long as the process: it is registered whole, once, and every later copy
 * from or to it is a direct DMA. auto waits for a region's second copy (pinning costs
 * about 1 s per GiB: not worth it for memory copied once); register pins at the
 * first. Registered memory is capped by HMO_PIN_MAX and RLIMIT_MEMLOCK, and the pool
 * never purges it (pool.c). */
static uint64_t pinned_regions;
static bool warned_refused;

/* RLIMIT_MEMLOCK, or no limit for a process with CAP_IPC_LOCK (root), as the kernel
 * itself counts it. */
static uint64_t memlock_limit(void)
{
	struct rlimit rl;
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n > 0) {
		buf[n] = '\0';
		const char *p = strstr(buf, "CapEff:");
		if (p) {
			uint64_t caps = 0;
			for (p += 7; *p == ' ' || *p == '\t'; p++)
				;
			for (; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
				caps = caps * 16 + (uint64_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
			if (caps & (1ull << 14))	/* CAP_IPC_LOCK */
				return UINT64_MAX;
		}
	}
	return getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? rl.rlim_cur : UINT64_MAX;
}

static void refuse(uintptr_t start, const char *why, CUresult rc)
{
	pool_region_mark(start, false, true);
	st.register_refused++;
	if (hmo_opt.stats.kind == HMO_OUT_OFF || __atomic_exchange_n(&warned_refused, true, __ATOMIC_RELAXED))
		return;
	char line[200];
	struct fmt_buf w;
	fmt_init(&w, line, sizeof line);
	fmt_str(&w, "hmo: a frame region was not registered with the GPU (");
	fmt_str(&w, why);
	if (rc) {
		fmt_str(&w, ", error ");
		fmt_u64(&w, (uint64_t)rc);
	}
	fmt_str(&w, "): its copies are staged");
	hmo_warn(w.p);
}

bool hmo_pin_registered(const void *h, size_t n)
{
	struct pool_region r;

	if ((hmo_opt.pin != HMO_PIN_AUTO && hmo_opt.pin != HMO_PIN_REGISTER) || !h || n < hmo_opt.threshold ||
	    !hmo_pool_owns(h) || hmo_cu_state() != 1 || !pool_region_use(h, n, &r))
		return false;
	if (r.registered)
		return true;
	if (r.refused || (hmo_opt.pin == HMO_PIN_AUTO && r.uses < 2))
		return false;
	pthread_mutex_lock(&mu);
	resolve();
	bool ok = false;
	uint64_t memlock = memlock_limit();
	if (!drv.host_register) {
		refuse(r.start, "no cuMemHostRegister", 0);
	} else if (pinned_regions + r.len > hmo_opt.pin_max) {
		refuse(r.start, "over HMO_PIN_MAX", 0);
	} else if (pinned_regions + r.len > memlock) {
		refuse(r.start, "over RLIMIT_MEMLOCK", 0);
	} else {
		CUresult rc = drv.host_register((void *)r.start, r.len, 1 /* CU_MEMHOSTREGISTER_PORTABLE */);
		if (rc == CUDA_SUCCESS) {
			pool_region_mark(r.start, true, false);
			pinned_regions += r.len;
			st.registered++;
			st.registered_bytes += r.len;
			ok = true;
		} else {
			refuse(r.start, "the driver refused", rc);
		}
	}
	pthread_mutex_unlock(&mu);
	return ok;
}

static CUevent wait_ev[2];

CUresult hmo_pin_wait(CUstream s, int variant)
{
	CUresult rc;

	pthread_mutex_lock(&mu);
	resolve();
	st.direct++;
	if (!wait_ev[variant] && (!drv.event_create || drv.event_create(&wait_ev[variant], 2) != CUDA_SUCCESS)) {
		pthread_mutex_unlock(&mu);
		return CUDA_ERROR_NOT_INITIALIZED;
	}
	rc = drv.event_record[variant](wait_ev[variant], s);
	if (rc == CUDA_SUCCESS)
		rc = drv.event_sync(wait_ev[variant]);
	pthread_mutex_unlock(&mu);
	return rc;
}

static void unregister_one(uintptr_t start, size_t len)
{
	if (drv.host_unregister)
		(void)drv.host_unregister((void *)start);
	pinned_regions -= len;
}

void hmo_pin_forget(void)
{
	pthread_mutex_lock(&mu);
	resolve();
	pool_regions_unregister(unregister_one);
	/* the ring and the wait events go with the context */
	nslots = 0;
	broken = false;
	wait_ev[0] = wait_ev[1] = NULL;
	pthread_mutex_unlock(&mu);
}

void hmo_cu_stage_stats(struct hmo_cu_stage_stats *out)
{
	pthread_mutex_lock(&mu);
	*out = st;
	pthread_mutex_unlock(&mu);
}
