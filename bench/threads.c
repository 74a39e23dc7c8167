/* Frame traffic from many threads: each allocates a frame, writes one byte per page,
 * keeps it while it allocates the next (two live per thread, as a decoder thread
 * holds a reference frame), and frees the older one.
 *   threads THREADS SIZE SECONDS   prints "ops_per_second"
 * scripts/bench runs it with 16 threads of 3 MiB frames against glibc and jemalloc. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static size_t size;
static volatile int stop;
static long counts[256];

static void *worker(void *arg)
{
	long i = (long)(size_t)arg, n = 0;
	char *old = NULL;

	while (!stop) {
		char *p = malloc(size);
		if (!p)
			abort();
		for (size_t off = 0; off < size; off += 4096)
			p[off] = (char)n;
		free(old);
		old = p;
		n++;
	}
	free(old);
	counts[i] = n;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: threads THREADS SIZE SECONDS\n");
		return 2;
	}
	int nt = atoi(argv[1]);
	double secs = atof(argv[3]);
	pthread_t t[256];
	struct timespec ts = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };
	long total = 0;

	size = (size_t)atol(argv[2]);
	if (nt < 1 || nt > 256 || size < 4096 || secs <= 0) {
		fprintf(stderr, "threads: 1 to 256 threads, a size of at least 4096, a positive time\n");
		return 2;
	}
	for (long i = 0; i < nt; i++)
		pthread_create(&t[i], NULL, worker, (void *)(size_t)i);
	nanosleep(&ts, NULL);
	stop = 1;
	for (int i = 0; i < nt; i++) {
		pthread_join(t[i], NULL);
		total += counts[i];
	}
	printf("%.0f\n", (double)total / secs);
	return 0;
}
