/* t_api: every function of hmo.h, and every error path, in a program linked with
 * -lhmo (and also run with libhmo preloaded: one library, one state).
 *   t_api        all the checks; prints "api ok"
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/hmo.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "t_api: %s:%d: %s\n", __FILE__, __LINE__, #c); exit(1); } } while (0)
#define MiB ((size_t)1 << 20)

/* HugePages_Free of /proc/meminfo: the default-size hugetlb pages left. */
static long hugetlb_free(void)
{
	char line[256];
	long n = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

/* The memory policy of the page at addr (get_mempolicy with MPOL_F_ADDR). */
static int policy_of(void *addr)
{
	int mode = -1;
	if (syscall(SYS_get_mempolicy, &mode, NULL, 0, addr, 2 /* MPOL_F_ADDR */) != 0)
		return -1;
	return mode;
}

static void frames(void)
{
	struct hmo_buffer b, z;

	/* bad input: a documented error each */
	b = hmo_alloc(0, HMO_NODE_ANY, 0);
	CHECK(!b.addr && errno == EINVAL);
	b = hmo_alloc(MiB, HMO_NODE_ANY, 0x80);
	CHECK(!b.addr && errno == EINVAL);
	b = hmo_alloc(MiB, 64, 0);
	CHECK(!b.addr && errno == EINVAL);
	b = hmo_alloc(MiB, 63, 0);	/* no machine here has 64 nodes */
	CHECK(!b.addr && errno == EINVAL);
	CHECK(hmo_free(NULL) == -EINVAL && errno == EINVAL);
	/* a frame: aligned, backed, writable, given back once */
	b = hmo_alloc(8 * MiB, HMO_NODE_ANY, HMO_ALLOC_PREFAULT);
	CHECK(b.addr && b.size == 8 * MiB && ((uintptr_t)b.addr & (2 * MiB - 1)) == 0);
	CHECK(b.backing == HMO_BACKING_THP || b.backing == HMO_BACKING_HUGETLB ||
	      b.backing == HMO_BACKING_SMALL_PAGES);
	memset(b.addr, 0xab, b.size);
	struct hmo_buffer copy = b;
	CHECK(hmo_free(&b) == 0 && b.addr == NULL);
	CHECK(hmo_free(&copy) == -EINVAL && errno == EINVAL);	/* the same buffer twice: refused */
	/* a buffer hmo did not make */
	char local[64];
	struct hmo_buffer fake = { local, sizeof local, HMO_NODE_ANY, 0 };
	CHECK(hmo_free(&fake) == -EINVAL);
	/* zeroed memory after reuse */
	b = hmo_alloc(4 * MiB, HMO_NODE_ANY, 0);
	CHECK(b.addr);
	memset(b.addr, 0x5a, b.size);
	CHECK(hmo_free(&b) == 0);
	z = hmo_alloc(4 * MiB, HMO_NODE_ANY, HMO_ALLOC_ZERO);
	CHECK(z.addr);
	for (size_t i = 0; i < z.size; i += 4096)
		CHECK(((unsigned char *)z.addr)[i] == 0);
	CHECK(hmo_free(&z) == 0);
	/* on node 0: bound while it is the caller's, the pool's placement again after
	 * (first touch here: HMO_NUMA=local on one node), so that the next frame cut from
	 * that memory is not bound */
	b = hmo_alloc(4 * MiB, 0, HMO_ALLOC_PREFAULT);
	CHECK(b.addr && b.node == 0);
	CHECK(policy_of(b.addr) == 2 /* MPOL_BIND */);
	void *was = b.addr;
	CHECK(hmo_free(&b) == 0);
	CHECK(policy_of(was) == 0 /* MPOL_DEFAULT */);
	/* backing flags: not both; hugetlb pages or nothing; never hugetlb pages */
	b = hmo_alloc(4 * MiB, HMO_NODE_ANY, HMO_ALLOC_HUGETLB | HMO_ALLOC_NO_HUGETLB);
	CHECK(!b.addr && errno == EINVAL);
	b = hmo_alloc(4 * MiB, HMO_NODE_ANY, HMO_ALLOC_NO_HUGETLB);
	CHECK(b.addr && b.backing != HMO_BACKING_HUGETLB);
	CHECK(hmo_free(&b) == 0);
	if (hugetlb_free() == 0) {	/* none reserved (hugetlb.sh, which reserves some, runs alone) */
		b = hmo_alloc(4 * MiB, HMO_NODE_ANY, HMO_ALLOC_HUGETLB);
		CHECK(!b.addr && errno == ENOMEM);
	}
}

/* t_api hugetlb (hugetlb.sh, with pages reserved): HMO_ALLOC_HUGETLB gives hugetlb
 * pages until they run out, then ENOMEM, never a SIGBUS; HMO_ALLOC_NO_HUGETLB leaves
 * them alone. */
static int hugetlb(void)
{
	struct hmo_buffer b[64];
	int n = 0;

	CHECK(hugetlb_free() >= 4);
	struct hmo_buffer t = hmo_alloc(4 * MiB, HMO_NODE_ANY, HMO_ALLOC_NO_HUGETLB);
	CHECK(t.addr && t.backing != HMO_BACKING_HUGETLB);
	for (; n < 64; n++) {
		b[n] = hmo_alloc(4 * MiB, HMO_NODE_ANY, HMO_ALLOC_HUGETLB);
		if (!b[n].addr)
			break;
		CHECK(b[n].backing == HMO_BACKING_HUGETLB);
		memset(b[n].addr, n, b[n].size);
	}
	CHECK(n >= 1 && n < 64 && errno == ENOMEM);
	for (int i = 0; i < n; i++)
		CHECK(((unsigned char *)b[i].addr)[b[i].size - 1] == i && hmo_free(&b[i]) == 0);
	CHECK(hmo_free(&t) == 0);
	printf("hugetlb ok: %d frames of 4 MiB on hugetlb pages, then ENOMEM\n", n);
	return 0;
}

static void caches(void)
{
	static char buf[1 << 16];
	CHECK(hmo_prefetch(NULL, 10) == -EINVAL);
	CHECK(hmo_flush(NULL, 10) == -EINVAL);
	CHECK(hmo_prefetch(NULL, 0) == 0);
	CHECK(hmo_prefetch(buf + 3, sizeof buf - 3) == 0);
	memset(buf, 7, sizeof buf);
	CHECK(hmo_flush(buf + 3, sizeof buf - 3) == 0);
	CHECK(buf[100] == 7);
}

static void phys(void)
{
	uint64_t pa = 0;
	static char page[8192] __attribute__((aligned(4096)));

	CHECK(hmo_phys_addr(NULL, &pa) == -EINVAL);
	page[100] = 1;
	int rc = hmo_phys_addr(page + 100, &pa);
	if (geteuid() == 0)
		CHECK(rc == 0 && pa % 4096 == 100);
	else
		CHECK(rc == 0 ? pa % 4096 == 100 : rc == -EPERM);
	/* a page never touched is not resident */
	char *fresh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(fresh != MAP_FAILED);
	CHECK(hmo_phys_addr(fresh, &pa) == -ENOENT);
	munmap(fresh, 4096);
}

static void shm(void)
{
	struct hmo_shm s, t;
	char name[64], big[300];

	snprintf(name, sizeof name, "t-api-%d", (int)getpid());
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK(hmo_shm_create("", MiB, 0, &s) == -EINVAL);
	CHECK(hmo_shm_create("a/b", MiB, 0, &s) == -EINVAL);
	CHECK(hmo_shm_create("..", MiB, 0, &s) == -EINVAL);
	CHECK(hmo_shm_create(big, MiB, 0, &s) == -EINVAL);
	CHECK(hmo_shm_create(name, 0, 0, &s) == -EINVAL);
	CHECK(hmo_shm_open("t-api-no-such-segment", &t) == -ENOENT);
	CHECK(hmo_shm_create(name, 3 * MiB, HMO_SHM_HUGE, &s) == 0 && s.addr && s.size >= 3 * MiB);
	CHECK(hmo_shm_create(name, MiB, 0, &t) == -EEXIST);
	memset(s.addr, 0x3c, 3 * MiB);
	/* across a fork: the child maps it by name, checks and writes */
	pid_t pid = fork();
	if (pid == 0) {
		struct hmo_shm c;
		if (hmo_shm_open(name, &c) != 0 || ((unsigned char *)c.addr)[MiB] != 0x3c)
			_exit(3);
		((unsigned char *)c.addr)[2 * MiB] = 0x77;
		hmo_shm_close(&c, 0);
		_exit(0);
	}
	int st;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(((unsigned char *)s.addr)[2 * MiB] == 0x77);
	CHECK(hmo_shm_close(&s, 1) == 0);
	CHECK(hmo_shm_open(name, &t) == -ENOENT);
	CHECK(hmo_shm_close(NULL, 0) == -EINVAL);
}

static void stats(void)
{
	struct hmo_stats s0, s1, s2;
	void *p[3];
	static char in[4 * MiB], out[4 * MiB];

	CHECK(hmo_stats(NULL) == -EINVAL);
	CHECK(hmo_stats_sized(&s0, 8) == -EINVAL);	/* smaller than any hmo_stats ever was */
	CHECK(hmo_stats(&s0) == 0);
	for (int i = 0; i < 3; i++) {
		p[i] = malloc(6 * MiB);	/* frames: the pool serves them, under hmo */
		CHECK(p[i]);
		memset(p[i], i, 6 * MiB);
	}
	memcpy(p[0], p[1], 2 * MiB);
	CHECK(hmo_copy_stream(out, in, sizeof out) == 0);
	CHECK(hmo_stats(&s1) == 0);
	CHECK(s1.alloc_calls >= s0.alloc_calls + 3 && s1.alloc_bytes >= s0.alloc_bytes + 18 * MiB);
	CHECK(s1.frames == s0.frames + 3);
	CHECK(s1.live_frames == s0.live_frames + 3);
	CHECK(s1.frame_bytes - s0.frame_bytes >= 18 * MiB && s1.frame_bytes - s0.frame_bytes < 19 * MiB);
	CHECK(s1.frames_reused >= s0.frames_reused && s1.frames_reused <= s0.frames_reused + 3);
	CHECK(s1.frame_bytes_reused <= s1.frame_bytes);
	CHECK(s1.pool_saved_share >= 0 && s1.pool_saved_share <= 1);
	/* 3 memsets of 6 MiB and a memcpy of 2 MiB, all large and timed */
	CHECK(s1.large_copy_calls == s0.large_copy_calls + 4);
	CHECK(s1.large_copy_bytes == s0.large_copy_bytes + 20 * MiB);
	CHECK(s1.large_copy_ns > s0.large_copy_ns && s1.large_copy_gbps > 0);
	CHECK(s1.copy_bytes >= s0.copy_bytes + 20 * MiB);
	CHECK(s1.api_copy_calls == s0.api_copy_calls + 1 && s1.api_copy_bytes == s0.api_copy_bytes + 4 * MiB);
	CHECK(s1.api_copy_ns > s0.api_copy_ns && s1.api_copy_gbps > 0);
	CHECK(s1.pool_live_bytes >= s0.pool_live_bytes + 18 * MiB && s1.pool_peak_bytes >= s1.pool_live_bytes);
	CHECK(s1.pool_hit_rate >= 0 && s1.pool_hit_rate <= 1);
	for (int i = 0; i < 3; i++)
		free(p[i]);
	CHECK(hmo_stats(&s2) == 0);
	CHECK(s2.live_frames == s0.live_frames && s2.frames_freed == s1.frames_freed + 3);
	CHECK(s2.frame_bytes_freed - s1.frame_bytes_freed == s1.frame_bytes - s0.frame_bytes);
	CHECK(s2.pool_live_bytes == s0.pool_live_bytes);
	/* A caller built against a smaller struct gets only its part. */
	unsigned char small[sizeof s2 + 16];
	memset(small, 0xa5, sizeof small);
	size_t first = offsetof(struct hmo_stats, api_copy_gbps) + sizeof(double);
	CHECK(hmo_stats_sized((struct hmo_stats *)(void *)small, first) == 0);
	CHECK(small[first] == 0xa5 && small[sizeof small - 1] == 0xa5);
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(((uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull) >> 56) ^ (unsigned char)seed;
}

/* hmo_copy_stream and hmo_copy_async: the same bytes as memcpy for sizes 0 to 1 GiB
 * at odd alignments; bad input refused; earliest deadline first. */
static void copies(void)
{
	size_t sizes[] = { 0, 1, 63, 65536 + 3, 9 * MiB + 5, 70 * MiB + 7, 0 };
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long avail = 0;
	char line[128];

	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "MemAvailable: %lu", &avail) == 1)
			break;
	if (f)
		fclose(f);
	/* kB: 6 GiB free, for 1 GiB twice and then some; T_API_NO_GIB: api.sh's runs
	 * after the first, which check other things, leave it out */
	if (avail >= 6ul << 20 && !getenv("T_API_NO_GIB"))
		sizes[6] = 1024 * MiB;
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		size_t n = sizes[k];
		if (k == 6 && !n)
			break;
		unsigned char *src = malloc(n + 8), *dst = malloc(n + 8);
		CHECK(src && dst);
		fill(src + 3, n, (unsigned)k);
		memset(dst, 0, n + 8);
		CHECK(hmo_copy_stream(dst + 1, src + 3, n) == 0);
		CHECK(memcmp(dst + 1, src + 3, n) == 0 && dst[0] == 0 && dst[n + 1] == 0);
		memset(dst, 0, n + 8);
		int64_t h = hmo_copy_async(dst + 1, src + 3, n, 100);
		CHECK(h > 0 && hmo_copy_wait(h) == 0);
		CHECK(memcmp(dst + 1, src + 3, n) == 0 && dst[0] == 0 && dst[n + 1] == 0);
		CHECK(hmo_copy_wait(h) == -EINVAL && errno == EINVAL);	/* waited on already */
		free(src);
		free(dst);
	}
	char a[64], b[64];
	CHECK(hmo_copy_stream(NULL, b, 1) == -EINVAL && hmo_copy_stream(a, a + 1, 8) == -EINVAL);
	CHECK(hmo_copy_async(NULL, b, 1, 0) == -EINVAL && hmo_copy_async(a, a + 1, 8, 0) == -EINVAL);
	CHECK(hmo_copy_wait(123456789) == -EINVAL && hmo_copy_wait(-1) == -EINVAL);

	/* NUMA copies: node 0 exists everywhere; a node past the last does not */
	{
		size_t n = 6 * MiB + 9;
		unsigned char *src = malloc(n), *dst = malloc(n);
		CHECK(src && dst);
		fill(src, n, 5);
		CHECK(hmo_copy_numa(dst, src, n, 0, 0) == 0 && memcmp(dst, src, n) == 0);
		CHECK(hmo_copy_numa(dst, src, n, 0, 64) == -EINVAL && hmo_copy_numa(dst, src, n, -1, 0) == -EINVAL);
		CHECK(hmo_copy_numa(dst, dst + 1, 16, 0, 0) == -EINVAL);
		free(src);
		free(dst);
	}

	/* Earliest deadline first: with the workers paused, three copies queued with
	 * deadlines 300, 100 and 200 start in the order 100, 200, 300. */
	int (*test)(int, uint64_t *, int);
	*(void **)&test = dlsym(RTLD_DEFAULT, "hmo__copy_test");
	CHECK(test);
	static unsigned char s3[3][MiB], d3[3][MiB];
	test(1, NULL, 0);
	int64_t h300 = hmo_copy_async(d3[0], s3[0], MiB, 300);
	int64_t h100 = hmo_copy_async(d3[1], s3[1], MiB, 100);
	int64_t h200 = hmo_copy_async(d3[2], s3[2], MiB, 200);
	CHECK(h300 > 0 && h100 > 0 && h200 > 0);
	test(0, NULL, 0);
	CHECK(hmo_copy_wait(h300) == 0 && hmo_copy_wait(h100) == 0 && hmo_copy_wait(h200) == 0);
	uint64_t ids[8];
	int n = test(0, ids, 8);
	CHECK(n == 3 && ids[0] == (uint64_t)h100 && ids[1] == (uint64_t)h200 && ids[2] == (uint64_t)h300);

	/* A small copy is made at once: its handle is done, and waited on once. */
	int64_t hs = hmo_copy_async(d3[0], s3[1], 1000, 5);
	CHECK(hs > 0 && memcmp(d3[0], s3[1], 1000) == 0);
	CHECK(hmo_copy_wait(hs) == 0 && hmo_copy_wait(hs) == -EINVAL);

	/* fork with copies in flight: the child knows none of the parent's handles and
	 * starts workers of its own; the parent's copy completes as usual. */
	static unsigned char big_s[16 * MiB], big_d[16 * MiB], kid_d[16 * MiB];
	fill(big_s, sizeof big_s, 9);
	int64_t hp = hmo_copy_async(big_d, big_s, sizeof big_d, 1);
	CHECK(hp > 0);
	pid_t pid = fork();
	if (pid == 0) {
		int ok = hmo_copy_wait(hp) == -EINVAL;
		int64_t hk = hmo_copy_async(kid_d, big_s, sizeof kid_d, 1);
		ok = ok && hk > 0 && hmo_copy_wait(hk) == 0 && memcmp(kid_d, big_s, sizeof kid_d) == 0;
		_exit(ok ? 0 : 1);
	}
	int st = -1;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(hmo_copy_wait(hp) == 0 && memcmp(big_d, big_s, sizeof big_d) == 0);
}

/* Two unrelated processes: the writer creates a segment and leaves; the reader, run
 * afterwards, maps it by name, checks it and removes it. */
static int shm_between(const char *mode, const char *name)
{
	struct hmo_shm s;

	if (!strcmp(mode, "shm-writer")) {
		CHECK(hmo_shm_create(name, 5 * MiB, HMO_SHM_HUGE, &s) == 0);
		fill(s.addr, 5 * MiB, 42);
		CHECK(hmo_shm_close(&s, 0) == 0);
		printf("written\n");
		return 0;
	}
	unsigned char *want = malloc(5 * MiB);
	CHECK(want);
	fill(want, 5 * MiB, 42);
	CHECK(hmo_shm_open(name, &s) == 0 && s.size >= 5 * MiB && memcmp(s.addr, want, 5 * MiB) == 0);
	CHECK(hmo_shm_close(&s, 1) == 0);
	free(want);
	printf("read\n");
	return 0;
}

/* A second copy of libhmo, another file opened by path (as python's ctypes would),
 * beside the one this program links: its API must reach the same pool and
 * statistics, so a frame it hands out is seen and freed by the first. */
static int second_copy(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		printf("dlopen %s: %s\n", path, dlerror());
		return 1;
	}
	struct hmo_buffer (*alloc2)(size_t, int, unsigned) = (struct hmo_buffer (*)(size_t, int, unsigned))dlsym(h, "hmo_alloc");
	int (*stats2)(struct hmo_stats *, size_t) = (int (*)(struct hmo_stats *, size_t))dlsym(h, "hmo_stats_sized");
	int64_t (*async2)(void *, const void *, size_t, uint64_t) =
		(int64_t (*)(void *, const void *, size_t, uint64_t))dlsym(h, "hmo_copy_async");
	Dl_info mine, theirs;
	CHECK(alloc2 && stats2 && async2);
	CHECK(dladdr((void *)hmo_alloc, &mine) && dladdr((void *)alloc2, &theirs));
	CHECK(strcmp(mine.dli_fname, theirs.dli_fname) != 0);	/* truly a second copy */

	struct hmo_stats s0, s1, s2;
	CHECK(hmo_stats(&s0) == 0);
	struct hmo_buffer b = alloc2(8 * MiB, HMO_NODE_ANY, 0);
	CHECK(b.addr != NULL);
	memset(b.addr, 7, 8 * MiB);
	CHECK(hmo_stats(&s1) == 0 && s1.live_frames == s0.live_frames + 1);
	CHECK(stats2(&s2, sizeof s2) == 0 && s2.live_frames == s1.live_frames && s2.frames == s1.frames);
	static char dst[MiB];
	int64_t c = async2(dst, b.addr, sizeof dst, 0);
	CHECK(c > 0 && hmo_copy_wait(c) == 0 && dst[MiB - 1] == 7);	/* one engine, one handle space */
	CHECK(hmo_free(&b) == 0);	/* the first copy frees what the second handed out */
	CHECK(hmo_stats(&s2) == 0 && s2.live_frames == s0.live_frames);
	printf("second copy ok\n");	/* CHECK exits at the first failure */
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "hugetlb") == 0)
		return hugetlb();
	if (argc == 3 && strcmp(argv[1], "second-copy") == 0)
		return second_copy(argv[2]);
	if (argc == 3)
		return shm_between(argv[1], argv[2]);
	frames();
	caches();
	phys();
	shm();
	stats();
	copies();
	printf("api ok\n");
	return 0;
}
