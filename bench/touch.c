/* First touch: GB/s of writing one byte in every 4 KiB of MIB MiB of fresh anonymous
 * memory, on a 2 MiB-aligned mapping advised MADV_HUGEPAGE ("huge") or
 * MADV_NOHUGEPAGE ("small").
 *   touch MIB huge|small [IDLE]   prints "GB/s percent_on_huge_pages"
 * The same amount is touched and unmapped once first, untimed, then the program
 * waits IDLE seconds (default 0) before the timed touch. With 0 the kernel hands back
 * the pages it has just taken back; after a few idle seconds a VM with free page
 * reporting has given them to the host, and each first touch then pays a host fault
 * as well. The percentage (from /proc/self/smaps_rollup, "-" where unreadable) says
 * how much of the timed mapping the kernel put on huge pages. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define HUGE_SIZE ((size_t)2 << 20)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A mapping of n bytes starting on a 2 MiB boundary, advised; the slack around it is
 * unmapped so that only the aligned part exists. */
static char *map_aligned(size_t n, int advice)
{
	size_t len = n + HUGE_SIZE;
	char *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	char *p = (char *)(((uintptr_t)raw + HUGE_SIZE - 1) & ~(uintptr_t)(HUGE_SIZE - 1));
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	if (raw + len > p + n)
		munmap(p + n, (size_t)(raw + len - (p + n)));
	/* Without THP in the kernel the advice fails: the touch then measures 4 KiB
	 * pages, and the percentage says so. */
	(void)madvise(p, n, advice);
	return p;
}

static void touch(char *p, size_t n)
{
	volatile char *v = p;
	for (size_t off = 0; off < n; off += 4096)
		v[off] = 1;
}

/* kB of anonymous memory on huge pages in this process, or -1. */
static long anon_huge_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	if (!f)
		return -1;
	char line[256];
	long kb = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[2], "huge") != 0 && strcmp(argv[2], "small") != 0)) {
		fprintf(stderr, "usage: touch MIB huge|small [IDLE]\n");
		return 2;
	}
	long mib = atol(argv[1]);
	int idle = argc > 3 ? atoi(argv[3]) : 0;
	if (mib < 1 || idle < 0)
		return 2;
	size_t n = (size_t)mib << 20;
	int advice = strcmp(argv[2], "huge") == 0 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE;

	char *p = map_aligned(n, advice);
	if (!p)
		return 1;
	touch(p, n);
	munmap(p, n);
	if (idle)
		sleep((unsigned)idle);

	p = map_aligned(n, advice);
	if (!p)
		return 1;
	double t0 = now();
	touch(p, n);
	double dt = now() - t0;
	long kb = anon_huge_kb();
	munmap(p, n);
	if (kb < 0)
		printf("%.2f -\n", (double)n / dt / 1e9);
	else
		printf("%.2f %ld\n", (double)n / dt / 1e9, kb * 100 / (mib * 1024));
	return 0;
}
