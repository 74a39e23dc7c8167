/* copyeng.c: hmo_copy_stream and the asynchronous copy engine of hmo.h.
 *
 * hmo_copy_stream copies with non-temporal stores (arch.c: AVX-512, AVX2 or SSE2,
 * chosen at run time from the CPU), so that a copy larger than the last-level cache does not
 * evict everything else; below HMO_STREAM_MIN it is glibc's memcpy, which wins there
 * (bench/copy measures both).
 *
 * hmo_copy_async queues a copy with a deadline; HMO_COPY_THREADS workers, started on
 * the first call (signals blocked), take the queued pieces earliest deadline first.
 * A copy of 8 MiB or more is split into one piece per worker. hmo_copy_wait blocks
 * until every piece of its copy is done, then forgets the handle: a second wait on it
 * is -EINVAL. Up to 256 KiB a copy is made at once by the caller, whose handle is
 * then done. A forked child starts its own workers, and knows none of the parent's
 * handles. The engine only exists in a
 * program that calls the API; preloading libhmo starts no thread for it. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "copyeng.h"
#include "../../include/hmo.h"
#include "arch.h"
#include "instance.h"
#include "base.h"
#include "process.h"
#include "real.h"
#include "os.h"

#define STREAM_MIN ((size_t)64 << 20)	/* below this, memcpy (see bench/copy) */
#define SPLIT_MIN ((size_t)8 << 20)
#define INLINE_MAX ((size_t)256 << 10)	/* up to this, hmo_copy_async copies at once */

/* The copy itself: memcpy below STREAM_MIN, else the destination aligned to 64 bytes
 * with memcpy, the bulk streamed (arch.c), the rest with memcpy, then a fence so the
 * stores are visible. */
static void stream_copy(void *dst, const void *src, size_t n)
{
	if (n >= STREAM_MIN) {
		size_t head = (64 - (uintptr_t)dst % 64) % 64;
		char *d = (char *)dst + head;
		const char *s = (const char *)src + head;
		hmo_real.memcpy(dst, src, head);
		size_t done = arch_stream_copy(d, s, n - head);
		if (done < n - head)
			hmo_real.memcpy(d + done, s + done, n - head - done);
		arch_store_fence();
		return;
	}
	hmo_real.memcpy(dst, src, n);
}

/* For hmo_stats: the copies asked for through hmo.h, their bytes, and the time spent
 * copying them, summed over the threads that did (a split copy counts each piece). */
static uint64_t api_calls, api_bytes, api_ns;

static void count_call(size_t len)
{
	__atomic_fetch_add(&api_calls, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&api_bytes, len, __ATOMIC_RELAXED);
}

static void timed_copy(void *dst, const void *src, size_t n)
{
	uint64_t t0 = os_now_ns();
	stream_copy(dst, src, n);
	__atomic_fetch_add(&api_ns, os_now_ns() - t0, __ATOMIC_RELAXED);
}

void hmo_copyeng_stats(uint64_t *calls, uint64_t *bytes, uint64_t *ns)
{
	*calls = __atomic_load_n(&api_calls, __ATOMIC_RELAXED);
	*bytes = __atomic_load_n(&api_bytes, __ATOMIC_RELAXED);
	*ns = __atomic_load_n(&api_ns, __ATOMIC_RELAXED);
}

static bool overlap(const void *d, const void *s, size_t n)
{
	uintptr_t a = (uintptr_t)d, b = (uintptr_t)s;
	return n && (a < b ? b - a < n : a - b < n);
}

HMO_EXPORT int hmo_copy_stream(void *dst, const void *src, size_t len)
{
	HMO_DELEGATE(copy_stream, dst, src, len);
	if (len && (!dst || !src || overlap(dst, src, len))) {
		errno = EINVAL;
		return -EINVAL;
	}
	count_call(len);
	timed_copy(dst, src, len);
	return 0;
}

HMO_EXPORT int hmo_copy_numa(void *dst, const void *src, size_t len, int src_node, int dst_node)
{
	HMO_DELEGATE(copy_numa, dst, src, len, src_node, dst_node);
	int nodes = os_numa_nodes();

	if ((len && (!dst || !src || overlap(dst, src, len))) || src_node < 0 || dst_node < 0 || src_node >= nodes ||
	    dst_node >= nodes || dst_node > 63) {
		errno = EINVAL;
		return -EINVAL;
	}
	uintptr_t a = ((uintptr_t)dst + 4095) & ~(uintptr_t)4095, b = ((uintptr_t)dst + len) & ~(uintptr_t)4095;
	if (b > a) {
		unsigned long mask = 1ul << dst_node;
		if (syscall(SYS_mbind, (void *)a, b - a, 2 /* MPOL_BIND */, &mask, 64, 2 /* MPOL_MF_MOVE */) != 0) {
			int err = errno;
			errno = err;
			return -err;
		}
	}
	count_call(len);
	timed_copy(dst, src, len);
	return 0;
}

/* ---- the asynchronous engine -------------------------------------------------------- */

struct job {
	uint64_t id;
	int pieces_left;
	bool done;
};

struct piece {
	uint64_t deadline, seq;	/* earliest deadline first; ties in order of arrival */
	char *dst;
	const char *src;
	size_t len;
	struct job *job;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER, finished = PTHREAD_COND_INITIALIZER;
static struct piece *heap;
static size_t nheap, capheap;
static struct job **jobs;	/* live handles */
static size_t njobs, capjobs;
static uint64_t next_id = 1, seq;
static int workers;
static bool paused;		/* the test hook */
static uint64_t order[64];	/* ids of the last pieces started, for the test hook */
static size_t norder;

static bool heap_less(const struct piece *a, const struct piece *b)
{
	return a->deadline != b->deadline ? a->deadline < b->deadline : a->seq < b->seq;
}

static bool heap_push(struct piece p)
{
	if (nheap == capheap) {
		size_t cap = capheap ? capheap * 2 : 64;
		struct piece *t = hmo_real.realloc(heap, cap * sizeof *t);
		if (!t)
			return false;
		heap = t;
		capheap = cap;
	}
	size_t i = nheap++;
	heap[i] = p;
	while (i && heap_less(&heap[i], &heap[(i - 1) / 2])) {
		struct piece t = heap[i];
		heap[i] = heap[(i - 1) / 2];
		heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return true;
}

static struct piece heap_pop(void)
{
	struct piece top = heap[0];
	heap[0] = heap[--nheap];
	for (size_t i = 0;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < nheap && heap_less(&heap[l], &heap[m]))
			m = l;
		if (r < nheap && heap_less(&heap[r], &heap[m]))
			m = r;
		if (m == i)
			break;
		struct piece t = heap[i];
		heap[i] = heap[m];
		heap[m] = t;
		i = m;
	}
	return top;
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (!nheap || paused)
			pthread_cond_wait(&work, &mu);
		struct piece p = heap_pop();
		if (norder < sizeof order / sizeof order[0])
			order[norder++] = p.job->id;
		pthread_mutex_unlock(&mu);
		timed_copy(p.dst, p.src, p.len);
		pthread_mutex_lock(&mu);
		if (--p.job->pieces_left == 0) {
			p.job->done = true;
			pthread_cond_broadcast(&finished);
		}
	}
	return NULL;
}

/* fork: mu is taken around it, so that the child never inherits it held by a worker.
 * The child has no workers, and the parent's queue and handles are not its own. */
static void fork_prepare(void)
{
	pthread_mutex_lock(&mu);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&mu);
}

static void fork_child(void)
{
	/* The parent's handles are dropped, not freed: the program's allocator may not
	 * be usable yet in a child's fork handler. A few bytes each. */
	nheap = 0;
	njobs = 0;
	workers = 0;
	norder = 0;
	pthread_cond_init(&work, NULL);
	pthread_cond_init(&finished, NULL);
	pthread_mutex_unlock(&mu);
}

static void engine_once(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Workers for this process (again in a forked child, which has none). mu held. */
static int start_workers(void)
{
	sigset_t all, old;

	if (workers)
		return 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < (int)hmo_opt.copy_threads; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, worker, NULL) == 0) {
			pthread_detach(t);
			workers++;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return workers ? 0 : -EAGAIN;
}

/* A new handle in the table. mu held. NULL when memory ran out. */
static struct job *new_job(void)
{
	if (njobs == capjobs) {
		size_t cap = capjobs ? capjobs * 2 : 64;
		struct job **t = hmo_real.realloc(jobs, cap * sizeof *t);
		if (!t)
			return NULL;
		jobs = t;
		capjobs = cap;
	}
	struct job *j = hmo_real.calloc(1, sizeof *j);
	if (!j)
		return NULL;
	j->id = next_id++;
	jobs[njobs++] = j;
	return j;
}

HMO_EXPORT int64_t hmo_copy_async(void *dst, const void *src, size_t len, uint64_t deadline)
{
	HMO_DELEGATE(copy_async, dst, src, len, deadline);
	if (len && (!dst || !src || overlap(dst, src, len))) {
		errno = EINVAL;
		return -EINVAL;
	}
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, engine_once);
	pthread_mutex_lock(&mu);
	/* A small copy is made here and now: handing it to a worker would cost more than
	 * the copy (bench/copy), and done now it is done before any deadline. */
	bool inline_copy = len <= INLINE_MAX && !paused;
	int rc = inline_copy ? 0 : start_workers();
	struct job *j = rc ? NULL : new_job();
	if (!j) {
		pthread_mutex_unlock(&mu);
		errno = rc ? -rc : ENOMEM;
		return rc ? rc : -ENOMEM;
	}
	int64_t id = (int64_t)j->id;
	size_t queued = 0;
	if (!inline_copy) {
		int pieces = len >= SPLIT_MIN && workers > 1 ? workers : 1;
		size_t each = (len / (size_t)pieces + 63) & ~(size_t)63;
		for (size_t off = 0; off < len || (len == 0 && j->pieces_left == 0); off += each) {
			size_t n = len - off < each ? len - off : each;
			if (!heap_push((struct piece){ deadline, seq++, (char *)dst + off, (const char *)src + off, n,
						       j }))
				break;	/* the pieces queued still run; the rest is copied here */
			j->pieces_left++;
			queued += n;
			if (len == 0)
				break;
		}
		pthread_cond_broadcast(&work);
	}
	/* Nothing queued (a small copy, or no memory for the queue): the copy is this
	 * thread's alone, and the handle is done once it is made. */
	bool mine = j->pieces_left == 0;
	pthread_mutex_unlock(&mu);
	count_call(len);
	if (queued < len)
		timed_copy((char *)dst + queued, (const char *)src + queued, len - queued);
	if (mine) {
		pthread_mutex_lock(&mu);
		j->done = true;
		pthread_cond_broadcast(&finished);
		pthread_mutex_unlock(&mu);
	}
	return id;
}

HMO_EXPORT int hmo_copy_wait(int64_t handle)
{
	HMO_DELEGATE(copy_wait, handle);
	struct job *j = NULL;

	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < njobs; i++) {
		if ((int64_t)jobs[i]->id == handle) {
			j = jobs[i];
			jobs[i] = jobs[--njobs];
			break;
		}
	}
	if (!j) {
		pthread_mutex_unlock(&mu);
		errno = EINVAL;
		return -EINVAL;	/* unknown, or waited on already */
	}
	while (!j->done)
		pthread_cond_wait(&finished, &mu);
	pthread_mutex_unlock(&mu);
	hmo_real.free(j);
	return 0;
}

/* Test hook (not in hmo.h): pause or resume the workers, and read the ids of the
 * copies in the order their pieces started. */
HMO_EXPORT int hmo__copy_test(int pause, uint64_t *ids, int max);
HMO_EXPORT int hmo__copy_test(int pause, uint64_t *ids, int max)
{
	int n = 0;

	pthread_mutex_lock(&mu);
	paused = pause != 0;
	if (!paused)
		pthread_cond_broadcast(&work);
	for (; ids && n < max && (size_t)n < norder; n++)
		ids[n] = order[n];
	if (pause)
		norder = 0;
	pthread_mutex_unlock(&mu);
	return n;
}
