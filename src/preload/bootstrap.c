/* bootstrap.c: the static arena for allocations made before the next malloc is known.
 *
 * dlsym can call calloc while hmo is still looking up calloc (glibc's dlerror state), and
 * another thread can allocate while hmo initialises. Those requests are served here.
 * Each block is preceded by a 16-byte header holding its size, which hmo may read
 * because the arena is hmo's own memory; free() of such a block does nothing and
 * realloc() copies it out. The static array is zero-filled by the loader, so blocks
 * are zeroed memory (calloc needs nothing more). */
#include <errno.h>

#include "bootstrap.h"

char hmo_bootstrap_mem[HMO_BOOTSTRAP_SIZE] __attribute__((aligned(4096)));
static size_t bootstrap_used;

#define HDR 16

void *hmo_bootstrap_alloc(size_t size, size_t align)
{
	size_t old, start, end;

	if (align < HDR)
		align = HDR;
	if (size > HMO_BOOTSTRAP_SIZE || (align & (align - 1)) != 0 || align > 4096) {
		errno = ENOMEM;
		return NULL;
	}
	old = __atomic_load_n(&bootstrap_used, __ATOMIC_RELAXED);
	do {
		start = (old + HDR + align - 1) & ~(align - 1);
		end = start + ((size + HDR - 1) & ~(size_t)(HDR - 1));
		if (end > HMO_BOOTSTRAP_SIZE) {
			errno = ENOMEM;
			return NULL;
		}
	} while (!__atomic_compare_exchange_n(&bootstrap_used, &old, end, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	*(size_t *)(hmo_bootstrap_mem + start - HDR) = size;
	return hmo_bootstrap_mem + start;
}

size_t hmo_bootstrap_usable(const void *p)
{
	return *(const size_t *)((const char *)p - HDR);
}
