/* copy: hmo.h's copies against glibc's memcpy, sizes 64 KiB to 1 GiB.
 *   copy [MAX-MiB]         prints "SIZE memcpy-GB/s stream-GB/s async2-GB/s" per size
 * Each figure is the best of several runs; the buffers are touched beforehand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../include/hmo.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t max = (argc > 1 ? strtoul(argv[1], NULL, 10) : 1024) << 20;
	char *src = malloc(max), *dst = malloc(max);

	if (!src || !dst)
		return 1;
	memset(src, 1, max);
	memset(dst, 2, max);
	for (size_t n = 64 << 10; n <= max; n *= 4) {
		int reps = n < (1 << 20) ? 2000 : n < (64 << 20) ? 40 : 4;
		double best[3] = { 0, 0, 0 };
		for (int round = 0; round < 3; round++) {
			for (int kind = 0; kind < 3; kind++) {
				double t = now();
				for (int i = 0; i < reps; i++) {
					if (kind == 0)
						memcpy(dst, src, n);
					else if (kind == 1)
						hmo_copy_stream(dst, src, n);
					else
						hmo_copy_wait(hmo_copy_async(dst, src, n, 0));
				}
				double gbs = (double)n * reps / (now() - t) / 1e9;
				if (gbs > best[kind])
					best[kind] = gbs;
			}
		}
		printf("%zu %.2f %.2f %.2f\n", n, best[0], best[1], best[2]);
	}
	return 0;
}
