/* instance.h: one libhmo state per process, however many copies of libhmo are loaded.
 *
 * Linking -lhmo and preloading libhmo.so give one copy: the loader matches the
 * soname. But a second file opened by path (python's ctypes.CDLL("/other/libhmo.so.0")
 * under hmo-run) is loaded beside the first. Each copy exports hmo__instance, a table
 * of its API functions. At init a copy looks the name up in the global scope: when it
 * finds another copy's table (of the same layout), it becomes passive (no pool, no
 * summary, no trace, no CUDA pools) and each of its API functions calls the first
 * copy's, so that every caller sees one pool and one set of statistics. */
#ifndef HMO_INSTANCE_H
#define HMO_INSTANCE_H

#include <stdbool.h>

#include "../../include/hmo.h"
#include "init.h"
#include "process.h"

#define HMO_INSTANCE_ABI 1

struct hmo_instance {
	uint32_t abi, size;	/* HMO_INSTANCE_ABI; sizeof, so that a later copy may add at the end */
	struct hmo_buffer (*alloc)(size_t, int, unsigned);
	int (*free)(struct hmo_buffer *);
	int (*prefetch)(const void *, size_t);
	int (*flush)(const void *, size_t);
	int (*copy_stream)(void *, const void *, size_t);
	int (*copy_numa)(void *, const void *, size_t, int, int);
	int64_t (*copy_async)(void *, const void *, size_t, uint64_t);
	int (*copy_wait)(int64_t);
	int (*phys_addr)(const void *, uint64_t *);
	int (*shm_create)(const char *, size_t, unsigned, struct hmo_shm *);
	int (*shm_open)(const char *, struct hmo_shm *);
	int (*shm_close)(struct hmo_shm *, int);
	int (*stats_sized)(struct hmo_stats *, size_t);
};

#pragma GCC visibility push(hidden)

/* The first copy's table when this copy is a passive second one, else NULL
 * (process.c). Set by hmo_init before anything else runs. */
extern const struct hmo_instance *hmo_primary;
/* Whether another copy of libhmo in the process has the state: then this one is
 * passive and sets hmo_primary (api.c; called by hmo_init). */
bool hmo_instance_attach(void);

#pragma GCC visibility pop

/* At the top of each API function: a passive copy hands the call on. */
#define HMO_DELEGATE(fn, ...)                                  \
	do {                                                   \
		if (!hmo_ready())                              \
			hmo_init();                            \
		if (HMO_UNLIKELY(hmo_primary != NULL))         \
			return hmo_primary->fn(__VA_ARGS__);   \
	} while (0)

#endif
