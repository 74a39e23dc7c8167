/* hmo over an allocator that calls mmap/memcpy/memset through the
 * PLT (libreenter, like jemalloc): every hook re-enters hmo, without deadlock,
 * recursion or lost data. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++) {
		char *p = malloc((size_t)i * 7 + 1);
		if (!p)
			return (void *)1;
		memset(p, i & 0xff, (size_t)i * 7 + 1);
		p = realloc(p, (size_t)i * 9 + 2);
		if (!p || (unsigned char)p[0] != (i & 0xff))
			return (void *)1;
		free(p);
	}
	return NULL;
}

int main(void)
{
	extern size_t malloc_usable_size(void *);
	pthread_t t[4];
	void *ret;
	char *s;

	s = strdup("reentered");
	CHECK(s && strcmp(s, "reentered") == 0);
	free(s);
	unsigned char *z = calloc(1000, 1000);
	CHECK(z && z[0] == 0 && z[999999] == 0);
	void *a = aligned_alloc(1 << 21, 5 << 20);
	CHECK(a && (uintptr_t)a % (1 << 21) == 0 && malloc_usable_size(a) >= (5u << 20));
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0);
	for (int i = 0; i < 4; i++) {
		CHECK(pthread_join(t[i], &ret) == 0);
		CHECK(ret == NULL);
	}
	return check_done("t_reenter");
}
