/* real.h: the next definition of every function hmo interposes (real.c). */
#ifndef HMO_PRELOAD_REAL_H
#define HMO_PRELOAD_REAL_H

#include <stddef.h>
#include <sys/types.h>

#pragma GCC visibility push(hidden)

struct hmo_real {
	void *(*malloc)(size_t);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*reallocarray)(void *, size_t, size_t);
	void (*free)(void *);
	void (*free_sized)(void *, size_t);
	void (*free_aligned_sized)(void *, size_t, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
	int (*malloc_trim)(size_t);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	void *(*mmap64)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	void *(*mremap)(void *, size_t, size_t, int, ...);
	void *(*memcpy)(void *, const void *, size_t);
	void *(*memmove)(void *, const void *, size_t);
	void *(*memset)(void *, int, size_t);
	void *(*memcpy_chk)(void *, const void *, size_t, size_t);
	void *(*memmove_chk)(void *, const void *, size_t, size_t);
	void *(*memset_chk)(void *, int, size_t, size_t);
	void (*exit_)(int) __attribute__((noreturn));
	void (*Exit_)(int) __attribute__((noreturn));
};
extern struct hmo_real hmo_real;

/* Resolves every field of hmo_real with dlsym(RTLD_NEXT); a function the C library
 * lacks stays NULL (hmo_init then points the _chk ones at copy.c's checked copies).
 * Called under the guard; allocations made meanwhile come from the bootstrap arena. */
void hmo_real_resolve(void);

/* The loader's own dlopen, dlclose and dlsym, for hmo's use: nothing patched,
 * traced or wrapped. hmo_real_dlsym_fn is the real dlsym itself (NULL if none). */
void *hmo_real_dlopen(const char *file, int flags);
int hmo_real_dlclose(void *handle);
void *hmo_real_dlsym(void *handle, const char *name);
void *hmo_real_dlsym_fn(void);

#pragma GCC visibility pop

#endif
