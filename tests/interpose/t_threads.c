/* 8 threads, 1M allocations and frees each, half of the frees made by another
 * thread (each thread hands blocks to its neighbour through a ring). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define THREADS 8
#define OPS 1000000
#define RING 1024

struct ring {
	void *slot[RING];
	unsigned head, tail;	/* head written by the producer, tail by the consumer */
};

static struct ring rings[THREADS];
static int bad;

static int ring_put(struct ring *r, void *p)
{
	unsigned h = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
	if (h - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) == RING)
		return 0;
	r->slot[h % RING] = p;
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
	return 1;
}

static void *ring_get(struct ring *r)
{
	unsigned t = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
	if (t == __atomic_load_n(&r->head, __ATOMIC_ACQUIRE))
		return NULL;
	void *p = r->slot[t % RING];
	__atomic_store_n(&r->tail, t + 1, __ATOMIC_RELEASE);
	return p;
}

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg, seed = id * 7919 + 1;
	struct ring *out = &rings[id], *in = &rings[(id + THREADS - 1) % THREADS];
	void *keep[64] = { 0 };

	for (int i = 0; i < OPS; i++) {
		seed = seed * 1103515245 + 12345;
		size_t n = (seed >> 8) % 4096 + 1;
		unsigned char *p;
		switch (seed >> 28) {
		case 0: p = calloc(1, n); break;
		case 1: p = realloc(NULL, n); break;
		case 2: if (posix_memalign((void **)&p, 64, n)) p = NULL; break;
		default: p = malloc(n); break;
		}
		if (!p) {
			__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
			continue;
		}
		p[0] = (unsigned char)id;
		p[n - 1] = (unsigned char)id;
		if (i & 1) {
			if (!ring_put(out, p))
				free(p);
		} else {
			unsigned k = (seed >> 4) % 64;
			free(keep[k]);
			keep[k] = p;
		}
		void *q = ring_get(in);
		if (q) {
			if (((unsigned char *)q)[0] != (id + THREADS - 1) % THREADS)
				__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
			free(q);
		}
	}
	for (int k = 0; k < 64; k++)
		free(keep[k]);
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];

	for (unsigned i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i) == 0);
	for (unsigned i = 0; i < THREADS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	/* drain what is left in the rings */
	for (unsigned i = 0; i < THREADS; i++) {
		void *q;
		while ((q = ring_get(&rings[i])) != NULL)
			free(q);
	}
	CHECK(bad == 0);
	return check_done("t_threads");
}
