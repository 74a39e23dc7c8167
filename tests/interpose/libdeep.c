/* Opened with RTLD_DEEPBIND: its own references prefer its dependencies'
 * definitions, so its malloc/free may bypass hmo. */
#include <stdlib.h>
#include <string.h>

void *deep_alloc(size_t n);
void deep_free(void *p);
void *deep_grow(void *p, size_t n);

void *deep_alloc(size_t n)
{
	void *p = malloc(n);
	if (p)
		memset(p, 0x42, n);
	return p;
}

void deep_free(void *p)
{
	free(p);
}

void *deep_grow(void *p, size_t n)
{
	return realloc(p, n);
}
