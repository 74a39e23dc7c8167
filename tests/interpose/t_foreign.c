/* Pointers hmo did not hand out (here from glibc's __libc_*
 * entry points, which bypass interposition) go to the next free/realloc untouched. */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

extern void *__libc_malloc(size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_calloc(size_t, size_t);

int main(void)
{
	for (size_t n = 1; n <= (64u << 20); n *= 8) {
		unsigned char *p = __libc_malloc(n);
		CHECK(p != NULL);
		memset(p, 0x3c, n);
		CHECK(malloc_usable_size(p) >= n);
		p = realloc(p, n * 2);
		CHECK(p && p[0] == 0x3c && p[n - 1] == 0x3c);
		free(p);

		void *a = __libc_memalign(4096, n);
		CHECK(a && (uintptr_t)a % 4096 == 0);
		free(a);
		unsigned char *c = __libc_calloc(1, n);
		CHECK(c && c[n - 1] == 0);
		free(c);
	}
	/* And the other way: hmo's blocks released by glibc's own free. */
	extern void __libc_free(void *);
	void *m = malloc(12345);
	CHECK(m != NULL);
	__libc_free(m);
	return check_done("t_foreign");
}
