/* memcpy: memcpy of one size, called through the PLT as programs call it.
 *   memcpy SIZE CALLS      prints "ns_per_call GB_per_s"
 * Built with -fno-builtin so every memcpy is a real call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: memcpy SIZE CALLS\n");
		return 2;
	}
	size_t n = strtoul(argv[1], NULL, 0);
	long calls = atol(argv[2]);
	char *src = malloc(n + 64), *dst = malloc(n + 64);
	if (!src || !dst)
		return 1;
	memset(src, 1, n + 64);
	memset(dst, 2, n + 64);
	for (long i = 0; i < 3; i++)	/* warm caches and page tables */
		memcpy(dst, src, n);
	double t0 = now();
	for (long i = 0; i < calls; i++)
		memcpy(dst, src, n);
	double dt = now() - t0;
	printf("%.3f %.3f\n", dt * 1e9 / (double)calls, (double)n * (double)calls / dt / 1e9);
	return dst[n / 2] == 1 ? 0 : 1;
}
