/* The frame pool seen from the program: every entry point around the threshold,
 * realloc across it, alignments up to 2 MiB, calloc after reuse, usable sizes,
 * huge pages, fork with live frames, threads, and ENOMEM under RLIMIT_AS.
 *
 *   t_pool entry     the entry points (pool.sh counts what the pool served)
 *   t_pool thp       a touched 64 MiB frame is backed by AnonHugePages (77 if no THP)
 *   t_pool fork      a child frees and reuses its parent's live frames
 *   t_pool threads   8 threads allocating and freeing frames at once
 *   t_pool rlimit    under RLIMIT_AS, a frame too large gives NULL/ENOMEM, and the
 *                    program goes on
 *   t_pool touch     prints the page faults of the first write to a fresh 64 MiB frame
 *   t_pool cache     frees 10 touched 8 MiB frames at once (for HMO_POOL_MAX)
 *   t_pool mmap      maps 64 MiB anonymous and a 4 MiB file, touches both, and prints
 *                    the AnonHugePages of the anonymous mapping
 *   t_pool none      nothing: what the process does by itself, as a baseline
 *   t_pool intrude   munmap, mremap and mmap(MAP_FIXED) on a frame: the pool stays
 *                    whole (pool.sh checks hmo's answers; glibc's differ)
 *   t_pool rss       prints this process's resident memory (VmRSS, kB), having
 *                    allocated nothing frame-sized
 *   t_pool hugetlb   an 8 MiB frame on 2 MiB hugetlb pages (KernelPageSize in smaps),
 *                    then more frames than the reserved pages hold, all usable
 *   t_pool numa      prints a touched frame's memory policy (get_mempolicy) and the
 *                    node its first page is on (move_pages)
 *
 * With T_STATS=FILE, each mode writes hmo_stats's figures to FILE (check_stats). */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define MiB ((size_t)1 << 20)
#define T MiB	/* pool.sh runs with the default HMO_THRESHOLD of 1M */

static void fill(unsigned char *p, size_t n, unsigned char v)
{
	memset(p, v, n);
}

static int all(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i += 4093)
		if (p[i] != v)
			return 0;
	return n == 0 || p[n - 1] == v;
}

/* Resident memory of this process in kB (VmRSS), or -1. */
static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int run_entry(void)
{
	static const size_t sizes[] = { T - 1, T, (size_t)1 << 30 };
	void *p;

	for (size_t i = 0; i < 3; i++) {
		size_t n = sizes[i];
		unsigned char *m = malloc(n);
		CHECK(m && malloc_usable_size(m) >= n);
		fill(m, n, 0xa1);
		free(m);
		unsigned char *c = calloc(1, n);	/* likely the block just freed: zero */
		CHECK(c && all(c, n, 0));
		free(c);
		CHECK(posix_memalign(&p, 4096, n) == 0 && (uintptr_t)p % 4096 == 0);
		free(p);
		p = aligned_alloc(64, n);
		CHECK(p && (uintptr_t)p % 64 == 0);
		free(p);
		p = memalign(2 * MiB, n);
		CHECK(p && (uintptr_t)p % (2 * MiB) == 0);
		free(p);
		p = valloc(n);
		CHECK(p && (uintptr_t)p % 4096 == 0);
		free(p);
		p = pvalloc(n);
		CHECK(p && (uintptr_t)p % 4096 == 0 && malloc_usable_size(p) >= n);
		free(p);
		p = reallocarray(NULL, n, 1);
		CHECK(p && malloc_usable_size(p) >= n);
		free(p);
	}
	/* calloc after reuse, with the memory poisoned first, many times. */
	for (int i = 0; i < 20; i++) {
		size_t n = (size_t)(i % 5 + 1) * 3 * MiB + 123;
		unsigned char *m = malloc(n);
		CHECK(m != NULL);
		fill(m, n, 0xee);
		free(m);
		unsigned char *z = calloc(n, 1);
		CHECK(z && all(z, n, 0));
		free(z);
	}
	/* realloc across the threshold, both ways, contents kept. */
	unsigned char *r = malloc(1000);
	fill(r, 1000, 0x11);
	r = realloc(r, 5 * MiB);		/* small -> frame */
	CHECK(r && all(r, 1000, 0x11));
	fill(r, 5 * MiB, 0x22);
	r = realloc(r, 9 * MiB);		/* frame grows */
	CHECK(r && all(r, 5 * MiB, 0x22));
	r = realloc(r, 2 * MiB);		/* frame shrinks */
	CHECK(r && all(r, 2 * MiB, 0x22) && malloc_usable_size(r) >= 2 * MiB);
	r = realloc(r, 100);			/* frame -> small */
	CHECK(r && all(r, 100, 0x22));
	free(r);
	r = reallocarray(malloc(T), 3, T);	/* frame via reallocarray */
	CHECK(r && malloc_usable_size(r) >= 3 * T);
	CHECK(realloc(r, 0) == NULL);		/* frees it, as glibc does */
	/* Alignments from 16 B to 2 MiB, all from the pool. */
	for (size_t a = 16; a <= 2 * MiB; a <<= 1) {
		CHECK(posix_memalign(&p, a, 3 * MiB) == 0 && (uintptr_t)p % a == 0);
		fill(p, 3 * MiB, 1);
		free(p);
	}
	/* A program's madvise on its frame does not break the pool (x264 does this). */
	p = memalign(2 * MiB, 8 * MiB);
	CHECK(p && madvise(p, 8 * MiB, MADV_HUGEPAGE) == 0);
	CHECK(madvise(p, 8 * MiB, MADV_DONTNEED) == 0);
	fill(p, 8 * MiB, 3);
	free(p);
	p = malloc(8 * MiB);
	CHECK(p != NULL);
	free(p);
	/* A steady frame cycle costs nothing that grows, however many cycles: a leak of
	 * per-call state in hmo (a counter slot per free, say) would show here. */
	for (int i = 0; i < 8; i++)
		free(malloc(2 * MiB + (size_t)i * 4096));
	long before = rss_kb();
	for (int i = 0; i < 20000; i++)
		free(malloc(2 * MiB + (size_t)(i % 7) * 4096));
	long after = rss_kb();
	CHECK(before > 0 && after - before < 8192);
	return check_done("t_pool entry");
}

/* A field of the smaps entry of the mapping that holds `p`, in kB, or -1. */
static long smaps_kb(const void *p, const char *field)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		size_t n = strlen(field);
		if (in && strncmp(line, field, n) == 0 && line[n] == ':' &&
		    sscanf(line + n + 1, "%ld", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static long huge_kb(const void *p)
{
	return smaps_kb(p, "AnonHugePages");
}

static int run_thp(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	char mode[128] = "";

	if (!f || !fgets(mode, sizeof mode, f) || strstr(mode, "[never]")) {
		printf("SKIP: transparent huge pages are disabled here (%s)\n", mode);
		return 77;
	}
	fclose(f);
	unsigned char *p = malloc(64 * MiB);
	CHECK(p != NULL);
	fill(p, 64 * MiB, 7);
	long kb = huge_kb(p);
	printf("AnonHugePages of the frame's mapping: %ld kB\n", kb);
	CHECK(kb >= 2048);
	free(p);
	return check_done("t_pool thp");
}

static int run_fork(void)
{
	unsigned char *live[4];

	for (int i = 0; i < 4; i++) {
		live[i] = malloc((size_t)(i + 2) * MiB);
		fill(live[i], (size_t)(i + 2) * MiB, (unsigned char)(i + 1));
	}
	for (int k = 0; k < 20; k++) {
		pid_t pid = fork();
		if (pid == 0) {
			int ok = 1;
			for (int i = 0; i < 4; i++) {
				ok &= all(live[i], (size_t)(i + 2) * MiB, (unsigned char)(i + 1));
				free(live[i]);
			}
			for (int i = 0; i < 10; i++) {
				unsigned char *m = calloc(1, 6 * MiB);
				ok &= m && all(m, 6 * MiB, 0);
				if (m)
					fill(m, 6 * MiB, 9);
				free(m);
			}
			_exit(ok ? 0 : 1);
		}
		int st;
		CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	for (int i = 0; i < 4; i++) {
		CHECK(all(live[i], (size_t)(i + 2) * MiB, (unsigned char)(i + 1)));
		free(live[i]);
	}
	return check_done("t_pool fork");
}

static void *frames(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	unsigned char *held[4] = { 0 };
	size_t sz[4] = { 0 };

	for (int i = 0; i < 400; i++) {
		unsigned k = (seed = seed * 1103515245 + 12345) >> 16 & 3;
		if (held[k] && !all(held[k], sz[k], (unsigned char)k))
			return (void *)1;
		free(held[k]);
		sz[k] = ((seed >> 20) % 24 + 1) * MiB + (seed & 0xfff);
		held[k] = malloc(sz[k]);
		if (!held[k])
			return (void *)1;
		fill(held[k], sz[k], (unsigned char)k);
	}
	for (int k = 0; k < 4; k++)
		free(held[k]);
	return NULL;
}

static int run_threads(void)
{
	pthread_t t[8];
	void *ret;

	for (int i = 0; i < 8; i++)
		CHECK(pthread_create(&t[i], NULL, frames, (void *)(uintptr_t)(i + 1)) == 0);
	for (int i = 0; i < 8; i++) {
		CHECK(pthread_join(t[i], &ret) == 0);
		CHECK(ret == NULL);
	}
	return check_done("t_pool threads");
}

static int run_rlimit(void)
{
	struct rlimit rl = { (rlim_t)2 << 30, (rlim_t)2 << 30 };

	/* Set before the first frame: the pool sizes its reservation to the limit. */
	CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
	errno = 0;
	void *big = malloc((size_t)8 << 30);
	CHECK(big == NULL && errno == ENOMEM);
	errno = 0;
	CHECK(calloc(1, (size_t)8 << 30) == NULL && errno == ENOMEM);
	/* The program goes on: frames and small blocks still come. */
	unsigned char *m = malloc(64 * MiB);
	CHECK(m != NULL);
	if (m) {
		fill(m, 64 * MiB, 5);
		free(m);
	}
	char *s = strdup("still here");
	CHECK(s && strcmp(s, "still here") == 0);
	free(s);
	return check_done("t_pool rlimit");
}

static long minflt(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static int run_touch(void)
{
	unsigned char *p = malloc(64 * MiB);
	long f0 = minflt();

	CHECK(p != NULL);
	fill(p, 64 * MiB, 1);
	printf("faults %ld\n", minflt() - f0);
	free(p);
	return check_done("t_pool touch");
}

static int run_cache(void)
{
	unsigned char *p[10];

	for (int i = 0; i < 10; i++) {
		p[i] = malloc(8 * MiB);
		CHECK(p[i] != NULL);
		fill(p[i], 8 * MiB, 2);
	}
	for (int i = 0; i < 10; i++)
		free(p[i]);
	return check_done("t_pool cache");
}

static int run_mmap(void)
{
	char path[] = "/tmp/hmo-pool-XXXXXX";
	int fd = mkstemp(path);
	unsigned char *a, *f;

	CHECK(fd >= 0 && ftruncate(fd, (off_t)(4 * MiB)) == 0);
	unlink(path);
	f = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(f != MAP_FAILED);
	fill(f, 4 * MiB, 4);
	a = mmap(NULL, 64 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(a != MAP_FAILED);
	fill(a, 64 * MiB, 5);
	printf("anon AnonHugePages %ld\n", huge_kb(a + 32 * MiB));
	CHECK(munmap(a, 64 * MiB) == 0 && munmap(f, 4 * MiB) == 0);
	close(fd);
	return check_done("t_pool mmap");
}

static int run_intrude(void)
{
	unsigned char *f = memalign(2 * MiB, 8 * MiB), *g;

	CHECK(f != NULL);
	fill(f, 8 * MiB, 0x5a);
	/* munmap of the middle of a frame: succeeds, the pages read as zeros afterwards,
	 * and the frame's memory stays mapped for the pool. */
	CHECK(munmap(f + 2 * MiB, 2 * MiB) == 0);
	CHECK(f[2 * MiB] == 0 && f[0] == 0x5a && f[4 * MiB] == 0x5a);
	fill(f, 8 * MiB, 1);
	errno = 0;
	CHECK(mremap(f, 8 * MiB, 16 * MiB, MREMAP_MAYMOVE) == MAP_FAILED && errno == EINVAL);
	errno = 0;
	CHECK(mmap(f, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED &&
	      errno == EINVAL);
	CHECK(all(f, 8 * MiB, 1));
	free(f);
	/* The pool goes on serving that memory. */
	for (int i = 0; i < 20; i++) {
		g = malloc(8 * MiB);
		CHECK(g != NULL);
		fill(g, 8 * MiB, (unsigned char)i);
		free(g);
	}
	return check_done("t_pool intrude");
}

static int run_hugetlb(void)
{
	unsigned char *first = malloc(8 * MiB), *more[8];

	CHECK(first != NULL);
	fill(first, 8 * MiB, 6);
	long page = smaps_kb(first, "KernelPageSize");
	printf("KernelPageSize of the first frame: %ld kB\n", page);
	CHECK(page == 2048);
	/* More than the reserved pages hold: the rest falls back at mapping time, and
	 * every byte can be written (no SIGBUS). */
	for (int i = 0; i < 8; i++) {
		more[i] = malloc(8 * MiB);
		CHECK(more[i] != NULL);
		fill(more[i], 8 * MiB, (unsigned char)i);
	}
	for (int i = 0; i < 8; i++) {
		CHECK(all(more[i], 8 * MiB, (unsigned char)i));
		free(more[i]);
	}
	free(first);
	return check_done("t_pool hugetlb");
}

static int run_numa(void)
{
	unsigned char *p = malloc(8 * MiB);
	int mode = -1, status = -1;
	unsigned long mask[16] = { 0 };	/* room for the kernel's largest node count */
	void *page;

	CHECK(p != NULL);
	fill(p, 8 * MiB, 8);
	CHECK(syscall(SYS_get_mempolicy, &mode, mask, 1024, p, 2 /* MPOL_F_ADDR */) == 0);
	page = p;
	CHECK(syscall(SYS_move_pages, 0, 1, &page, NULL, &status, 0) == 0);
	printf("policy %d mask %#lx node %d\n", mode, mask[0], status);
	free(p);
	return check_done("t_pool numa");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (strcmp(mode, "entry") == 0)
		return check_stats(run_entry());
	if (strcmp(mode, "thp") == 0)
		return check_stats(run_thp());
	if (strcmp(mode, "fork") == 0)
		return check_stats(run_fork());
	if (strcmp(mode, "threads") == 0)
		return check_stats(run_threads());
	if (strcmp(mode, "rlimit") == 0)
		return check_stats(run_rlimit());
	if (strcmp(mode, "touch") == 0)
		return check_stats(run_touch());
	if (strcmp(mode, "cache") == 0)
		return check_stats(run_cache());
	if (strcmp(mode, "mmap") == 0)
		return check_stats(run_mmap());
	if (strcmp(mode, "none") == 0)
		return check_stats(0);
	if (strcmp(mode, "intrude") == 0)
		return check_stats(run_intrude());
	if (strcmp(mode, "rss") == 0) {
		printf("rss %ld\n", rss_kb());
		return 0;
	}
	if (strcmp(mode, "hugetlb") == 0)
		return check_stats(run_hugetlb());
	if (strcmp(mode, "numa") == 0)
		return check_stats(run_numa());
	check_say("usage: t_pool entry|thp|fork|threads|rlimit\n");
	return 2;
}
