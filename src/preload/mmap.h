/* mmap.h: the mmap-family hooks (mmap.c). */
#ifndef HMO_PRELOAD_MMAP_H
#define HMO_PRELOAD_MMAP_H

#include <stdint.h>

#pragma GCC visibility push(hidden)

/* Program mmaps that got huge-page advice (HMO_MMAP). */
extern uint64_t hmo_mmap_advised;
/* The program's own munmap, mremap and MAP_FIXED mmap calls on pool memory: turned
 * into page releases or refused, never let through to unmap or replace what the
 * pool hands out. */
extern uint64_t hmo_pool_intrusions;
/* Finds the program's allocator's object, whose mappings are not advised. hmo_init. */
void hmo_mmap_init(void);

#pragma GCC visibility pop

#endif
