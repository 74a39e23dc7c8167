/* A library opened with RTLD_DEEPBIND frees what the program
 * allocated and the other way round. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int main(int argc, char **argv)
{
	void *h;
	void *(*dalloc)(size_t);
	void (*dfree)(void *);
	void *(*dgrow)(void *, size_t);

	CHECK(argc == 2);
	if (argc != 2)
		return 2;
	h = dlopen(argv[1], RTLD_NOW | RTLD_DEEPBIND);
	CHECK(h != NULL);
	if (!h)
		return check_done("t_deepbind");
	*(void **)&dalloc = dlsym(h, "deep_alloc");
	*(void **)&dfree = dlsym(h, "deep_free");
	*(void **)&dgrow = dlsym(h, "deep_grow");
	CHECK(dalloc && dfree && dgrow);
	for (size_t n = 16; n <= (16u << 20); n *= 4) {
		unsigned char *p = dalloc(n);
		CHECK(p && p[n - 1] == 0x42);
		p = realloc(p, n * 2);
		CHECK(p && p[n - 1] == 0x42);
		free(p);
		p = malloc(n);
		CHECK(p != NULL);
		memset(p, 1, n);
		p = dgrow(p, n + 1);
		CHECK(p && p[n - 1] == 1);
		dfree(p);
	}
	CHECK(dlclose(h) == 0);
	return check_done("t_deepbind");
}
