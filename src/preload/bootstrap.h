/* bootstrap.h: memory for the allocations made before the next malloc is known
 * (bootstrap.c): dlsym may call calloc. */
#ifndef HMO_PRELOAD_BOOTSTRAP_H
#define HMO_PRELOAD_BOOTSTRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* A bump allocator over a static array: never reused, never returned to libc.
 * hmo_bootstrap_alloc returns NULL with errno ENOMEM when full, and zeroed memory. */
void *hmo_bootstrap_alloc(size_t size, size_t align);
size_t hmo_bootstrap_usable(const void *p);
extern char hmo_bootstrap_mem[];
#define HMO_BOOTSTRAP_SIZE (256 * 1024)

static inline bool hmo_bootstrap_owns(const void *p)
{
	return (uintptr_t)p - (uintptr_t)hmo_bootstrap_mem < HMO_BOOTSTRAP_SIZE;
}

#pragma GCC visibility pop

#endif
