/* api.c: the explicit API of include/hmo.h, inside libhmo.so, over the same pool and
 * statistics that the hooks use: a program that links -lhmo and one that preloads
 * libhmo share one state. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/hist.h"
#include "../common/fmt.h"
#include "../../include/hmo.h"
#include "arch.h"
#include "instance.h"
#include "base.h"
#include "copyeng.h"
#include "counters.h"
#include "os.h"
#include "pool.h"

#define HUGE_2M ((size_t)2 << 20)

static int fail(int err)
{
	errno = err;
	return -err;
}

/* ---- frames ----------------------------------------------------------------------- */

/* The buffers hmo_alloc handed out and hmo_free has not taken back: a free of anything
 * else (another pointer, the same buffer twice) is refused with EINVAL, never passed
 * to the allocator. A mutex: these are frames, not a hot path. */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static void **live;
static size_t nlive, caplive;

static bool live_add(void *p)
{
	pthread_mutex_lock(&live_mu);
	if (nlive == caplive) {
		size_t cap = caplive ? caplive * 2 : 256;
		void **t = os_raw_mmap(NULL, cap * sizeof *t, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (t == MAP_FAILED) {
			pthread_mutex_unlock(&live_mu);
			return false;
		}
		if (live) {
			os_memmove(t, live, nlive * sizeof *t);
			os_raw_munmap(live, caplive * sizeof *t);
		}
		live = t;
		caplive = cap;
	}
	live[nlive++] = p;
	pthread_mutex_unlock(&live_mu);
	return true;
}

static bool live_take(void *p)
{
	bool found = false;

	pthread_mutex_lock(&live_mu);
	for (size_t i = 0; i < nlive && !found; i++) {
		if (live[i] == p) {
			live[i] = live[--nlive];
			found = true;
		}
	}
	pthread_mutex_unlock(&live_mu);
	return found;
}

HMO_EXPORT struct hmo_buffer hmo_alloc(size_t size, int node, unsigned flags)
{
	HMO_DELEGATE(alloc, size, node, flags);
	struct hmo_buffer b = { NULL, size, HMO_NODE_ANY, 0 };

	const unsigned both = HMO_ALLOC_HUGETLB | HMO_ALLOC_NO_HUGETLB;
	if (!size || (flags & ~(HMO_ALLOC_PREFAULT | HMO_ALLOC_ZERO | both)) || (flags & both) == both ||
	    node < HMO_NODE_ANY || node > 63 || (node >= 0 && node >= os_numa_nodes())) {
		errno = EINVAL;
		return b;
	}
	enum pool_want want = flags & HMO_ALLOC_HUGETLB ? POOL_HUGETLB_ONLY :
			      flags & HMO_ALLOC_NO_HUGETLB ? POOL_NO_HUGETLB : POOL_ANY;
	void *p = pool_alloc_from(size, size >= HUGE_2M ? HUGE_2M : 4096, (flags & HMO_ALLOC_ZERO) != 0, want, NULL);
	if (!p) {
		errno = ENOMEM;
		return b;
	}
	if (node >= 0) {
		/* bound to the node, pages already there moved */
		unsigned long mask = 1ul << node;
		size_t len = (pool_usable_size(p) + 4095) & ~(size_t)4095;
		if (syscall(SYS_mbind, p, len, 2 /* MPOL_BIND */, &mask, 64, 2 /* MPOL_MF_MOVE */) != 0) {
			int err = errno;
			pool_free(p);
			errno = err == ENOSYS ? EINVAL : err;
			return b;
		}
		b.node = node;
	}
	if (flags & HMO_ALLOC_PREFAULT)
		(void)os_populate(p, size);
	switch (pool_backing_of(p)) {
	case HMO_BACK_HUGETLB: b.backing = HMO_BACKING_HUGETLB; break;
	case HMO_BACK_THP: b.backing = HMO_BACKING_THP; break;
	default: b.backing = HMO_BACKING_SMALL_PAGES; break;
	}
	if (!live_add(p)) {
		pool_free(p);
		errno = ENOMEM;
		return b;
	}
	b.addr = p;
	return b;
}

HMO_EXPORT int hmo_free(struct hmo_buffer *buf)
{
	HMO_DELEGATE(free, buf);
	if (!buf || !buf->addr || !live_take(buf->addr))
		return fail(EINVAL);	/* not hmo_alloc's, or freed already */
	if (buf->node >= 0)
		pool_restore_placement(buf->addr, (pool_usable_size(buf->addr) + 4095) & ~(size_t)4095);
	pool_free(buf->addr);
	buf->addr = NULL;
	return 0;
}

/* ---- caches --------------------------------------------------------------------------- */

HMO_EXPORT int hmo_prefetch(const void *addr, size_t len)
{
	HMO_DELEGATE(prefetch, addr, len);
	if (!addr && len)
		return fail(EINVAL);
	for (const char *p = addr, *end = (const char *)addr + len; p < end; p += 64)
		__builtin_prefetch(p, 0, 3);
	return 0;
}

HMO_EXPORT int hmo_flush(const void *addr, size_t len)
{
	HMO_DELEGATE(flush, addr, len);
	if (!addr && len)
		return fail(EINVAL);
	return arch_flush_lines(addr, len) ? 0 : fail(ENOSYS);
}

/* ---- physical addresses ------------------------------------------------------------------ */

HMO_EXPORT int hmo_phys_addr(const void *addr, uint64_t *phys)
{
	HMO_DELEGATE(phys_addr, addr, phys);
	uint64_t e = 0;
	long page = sysconf(_SC_PAGESIZE);

	if (!addr || !phys)
		return fail(EINVAL);
	int err = os_pagemap(addr, &e);
	if (err)
		return fail(err);
	if (!(e >> 63 & 1))
		return fail(ENOENT);		/* not resident */
	uint64_t pfn = e & ((1ull << 55) - 1);
	if (!pfn)
		return fail(EPERM);		/* the kernel hides frame numbers from us */
	*phys = pfn * (uint64_t)page + (uintptr_t)addr % (uintptr_t)page;
	return 0;
}

/* ---- shared memory --------------------------------------------------------------------- */

#define HUGETLBFS_MAGIC 0x958458f6

static bool good_name(const char *name)
{
	size_t n = name ? strnlen(name, HMO_SHM_NAME_MAX + 1) : 0;

	if (!n || n > HMO_SHM_NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || c == '.'))
			return false;
	}
	return true;
}

static bool hugetlbfs_here(void)
{
	struct statfs s;
	return statfs("/dev/hugepages", &s) == 0 && (unsigned long)s.f_type == HUGETLBFS_MAGIC;
}

static void path_of(char *out, size_t cap, const char *name, bool huge)
{
	struct fmt_buf b;
	fmt_init(&b, out, cap);
	fmt_str(&b, huge ? "/dev/hugepages/hmo-" : "/dev/shm/hmo-");
	fmt_str(&b, name);
}

static int map_it(int fd, size_t size, bool huge, const char *name, struct hmo_shm *out)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	out->addr = p;
	out->size = size;
	out->fd = fd;
	out->huge = huge;
	memcpy(out->name, name, strlen(name) + 1);
	return 0;
}

HMO_EXPORT int hmo_shm_create(const char *name, size_t size, unsigned flags, struct hmo_shm *out)
{
	HMO_DELEGATE(shm_create, name, size, flags, out);
	char path[HMO_SHM_NAME_MAX + 32];
	int rc;

	if (!out || !good_name(name) || !size || (flags & ~HMO_SHM_HUGE))
		return fail(EINVAL);
	memset(out, 0, sizeof *out);
	out->fd = -1;
	if ((flags & HMO_SHM_HUGE) && hugetlbfs_here()) {
		size_t len = (size + HUGE_2M - 1) & ~(HUGE_2M - 1);
		path_of(path, sizeof path, name, true);
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST)
			return fail(EEXIST);
		if (fd >= 0) {
			if (ftruncate(fd, (off_t)len) == 0 && (rc = map_it(fd, len, true, name, out)) == 0)
				return 0;
			close(fd);	/* no huge pages to be had: a plain segment instead */
			unlink(path);
		}
	}
	path_of(path, sizeof path, name, false);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(errno);
	if (ftruncate(fd, (off_t)size) != 0 || (rc = map_it(fd, size, false, name, out)) != 0) {
		int err = errno;
		close(fd);
		unlink(path);
		return fail(err ? err : ENOMEM);
	}
	return 0;
}

HMO_EXPORT int hmo_shm_open(const char *name, struct hmo_shm *out)
{
	HMO_DELEGATE(shm_open, name, out);
	char path[HMO_SHM_NAME_MAX + 32];
	struct stat st;

	if (!out || !good_name(name))
		return fail(EINVAL);
	memset(out, 0, sizeof *out);
	out->fd = -1;
	for (int huge = 1; huge >= 0; huge--) {
		if (huge && !hugetlbfs_here())
			continue;
		path_of(path, sizeof path, name, huge);
		int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) != 0 || st.st_size <= 0) {
			close(fd);
			return fail(EINVAL);
		}
		int rc = map_it(fd, (size_t)st.st_size, huge, name, out);
		if (rc == 0)
			return 0;
		close(fd);
		return fail(-rc);
	}
	return fail(ENOENT);
}

HMO_EXPORT int hmo_shm_close(struct hmo_shm *shm, int unlink_it)
{
	HMO_DELEGATE(shm_close, shm, unlink_it);
	char path[HMO_SHM_NAME_MAX + 32];

	if (!shm || !shm->addr || !good_name(shm->name))
		return fail(EINVAL);
	munmap(shm->addr, shm->size);
	if (shm->fd >= 0)
		close(shm->fd);
	if (unlink_it) {
		path_of(path, sizeof path, shm->name, shm->huge);
		if (unlink(path) != 0)
			return fail(errno);
	}
	shm->addr = NULL;
	shm->fd = -1;
	return 0;
}

/* ---- statistics ------------------------------------------------------------------------- */

/* The size of struct hmo_stats in the first hmo.h that had hmo_stats_sized: the least
 * a caller can pass, for ever. Newer fields go after it. */
#define STATS_FIRST_SIZE (offsetof(struct hmo_stats, api_copy_gbps) + sizeof(double))

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0;
}

HMO_EXPORT int hmo_stats_sized(struct hmo_stats *user, size_t size)
{
	HMO_DELEGATE(stats_sized, user, size);
	static struct hmo_fn_stats tot[FN_COUNT];
	static int busy;
	struct hmo_stats s;
	struct pool_stats p;
	uint64_t timed = 0;	/* bytes of the large copies that were timed */

	if (!user || size < STATS_FIRST_SIZE)
		return fail(EINVAL);
	if (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
		return fail(EBUSY);	/* another thread is reading them right now */
	hmo_counters_sum(tot);
	os_memset(&s, 0, sizeof s);	/* not memset: hmo's own copies are not counted */
	for (int f = 0; f < FN_COUNT; f++) {
		uint64_t calls = hmo_hist_total(tot[f].hist);
		if (hmo_fn_is_copy(f)) {
			s.copy_calls += calls;
			s.copy_bytes += tot[f].bytes;
			s.large_copy_calls += tot[f].large_calls;
			s.large_copy_bytes += tot[f].large_bytes;
			s.large_copy_ns += tot[f].large_ns;
			timed += tot[f].timed_bytes;
			continue;
		}
		switch (f) {
		case FN_FREE: case FN_FREE_SIZED: case FN_FREE_ALIGNED_SIZED:
			s.free_calls += calls;
			break;
		case FN_MALLOC_USABLE_SIZE: case FN_MMAP: case FN_MMAP64: case FN_MUNMAP: case FN_MREMAP:
			break;
		default:
			s.alloc_calls += calls;
			s.alloc_bytes += tot[f].bytes;
			break;
		}
	}
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
	s.large_copy_gbps = ratio(timed, s.large_copy_ns);
	hmo_copyeng_stats(&s.api_copy_calls, &s.api_copy_bytes, &s.api_copy_ns);
	s.api_copy_gbps = ratio(s.api_copy_bytes, s.api_copy_ns);
	pool_get_stats(&p);
	s.frames = p.allocs;
	s.frames_reused = p.reused;
	s.frame_fallbacks = p.fallbacks;
	s.frames_freed = p.frees;
	s.live_frames = p.live_blocks;
	s.frame_bytes = p.served_bytes;
	s.frame_bytes_freed = p.freed_bytes;
	s.pool_live_bytes = p.live_bytes;
	s.pool_peak_bytes = p.peak_live_bytes;
	s.pool_mapped_bytes = p.extent_bytes;
	s.pool_hit_rate = ratio(p.reused, p.allocs);
	s.frame_bytes_reused = p.reused_bytes;
	s.pool_saved_share = ratio(p.reused_bytes, p.served_bytes);
	s.faults_avoided = p.reused_bytes / 4096;
	os_memmove(user, &s, size < sizeof s ? size : sizeof s);
	return 0;
}

/* ---- one state per process (instance.h) ------------------------------------------------- */

static const struct hmo_instance self = {
	.abi = HMO_INSTANCE_ABI, .size = sizeof(struct hmo_instance),
	.alloc = hmo_alloc, .free = hmo_free, .prefetch = hmo_prefetch, .flush = hmo_flush,
	.copy_stream = hmo_copy_stream, .copy_numa = hmo_copy_numa, .copy_async = hmo_copy_async,
	.copy_wait = hmo_copy_wait, .phys_addr = hmo_phys_addr, .shm_create = hmo_shm_create,
	.shm_open = hmo_shm_open, .shm_close = hmo_shm_close, .stats_sized = hmo_stats_sized,
};

/* A pointer, not the table itself: a copy compares what the name gives with its own
 * &self, which no relocation can redirect to another copy. */
HMO_EXPORT const struct hmo_instance *const hmo__instance = &self;

bool hmo_instance_attach(void)
{
	const struct hmo_instance *const *first = dlsym(RTLD_DEFAULT, "hmo__instance");

	if (!first || !*first || *first == &self)
		return false;
	if ((*first)->abi != HMO_INSTANCE_ABI || (*first)->size < sizeof self) {
		os_warn("hmo: another libhmo of a different version is loaded in this process; "
			 "this copy keeps a pool and statistics of its own");
		return false;
	}
	hmo_primary = *first;
	return true;
}
