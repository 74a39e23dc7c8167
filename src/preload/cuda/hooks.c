/* hooks.c: the CUDA driver API, seen from every road a program takes to it.
 *
 * hmo never opens or links libcuda, and calls nothing of CUDA's from a constructor.
 * It wraps the driver functions that the program itself obtains, by any of:
 *   - direct linking: hmo exports cuMemAlloc_v2 and the others, and forwards to the
 *     next definition (dlsym RTLD_NEXT);
 *   - dlopen + dlsym, as FFmpeg does: hmo's dlsym (dlsym.c) hands out a wrapper for
 *     a driver name it knows, after the real lookup;
 *   - cuGetProcAddress / cuGetProcAddress_v2, as every CUDA runtime since 11.3 does,
 *     statically linked or not: hmo calls the real lookup first and wraps exactly the
 *     variant it returned (the legacy or per-thread default stream one).
 * The runtime (libcudart) reaches the driver through the last road, so pooling and
 * counting happen here, once, whichever API the program uses.
 *
 * What the wrappers do (mem.c, stage.c, ctx.c): device and pinned allocations come
 * from caching pools; pointer queries on pooled blocks are answered from the pools'
 * own records; pageable copies are staged; every call is counted with its bytes and
 * API time for the exit summary.
 *
 * Two things a lookup can hand back must never be called as "the real function":
 *   - one of hmo's own wrappers. A driver (or another interposer stacked with hmo)
 *     whose cuGetProcAddress resolves names with dlsym(RTLD_DEFAULT) finds hmo's
 *     exports first; hmo calling that as the next definition would call itself (and
 *     staging would wait for ever on its own lock). Such a result is replaced by the
 *     driver library's own definition, looked up on the library's handle, which
 *     searches the library and its dependencies and never the preloaded hmo;
 *   - a function of a libcuda that has been unloaded. FFmpeg opens and closes
 *     libcuda with each device context, and the next load may land elsewhere. After
 *     every dlclose hmo checks that the library it knows is still there; if not, it
 *     forgets every pointer into it and everything it made in it, and adopts the
 *     next load afresh.
 *
 * If the first cuInit fails (no driver, the toolkit's stub library, no device), every
 * wrapper passes straight through. */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <string.h>

#include "../../common/names.h"
#include "cuda.h"
#include "../counters.h"
#include "../os.h"
#include "../real.h"

struct hmo_cu_stat hmo_cu_stats[HMO_CUOP_COUNT];
unsigned hmo_cu_generation;

/* ---- the functions wrapped, by name ------------------------------------------ */

struct cu_fn {
	const char *base;	/* the name cuGetProcAddress is asked for */
	const char *sym_pt;	/* the per-thread default stream variant's export, or NULL (the
				 * legacy variant's is hmo_cu_name's) */
	int since;		/* the CUDA version whose ABI the wrapper has */
	void *wrap[2];		/* wrappers of the legacy and per-thread variants */
};

/* What the program's lookups returned: the real function of each variant. */
void *hmo_cu_real[HMO_CUOP_COUNT][2];

#define W(fn) (void *)cu_wrap_##fn
#define WP(fn) (void *)cu_wrap_##fn##_pt
static const struct cu_fn fns[HMO_CUOP_COUNT] = {
	[HMO_CUOP_INIT] = { "cuInit", NULL, 2000, { W(init), NULL } },
	[HMO_CUOP_MEM_ALLOC] = { "cuMemAlloc", NULL, 3020, { W(mem_alloc), NULL } },
	[HMO_CUOP_MEM_FREE] = { "cuMemFree", NULL, 3020, { W(mem_free), NULL } },
	[HMO_CUOP_MEM_ALLOC_HOST] = { "cuMemAllocHost", NULL, 3020, { W(mem_alloc_host), NULL } },
	[HMO_CUOP_MEM_HOST_ALLOC] = { "cuMemHostAlloc", NULL, 2020, { W(mem_host_alloc), NULL } },
	[HMO_CUOP_MEM_FREE_HOST] = { "cuMemFreeHost", NULL, 2000, { W(mem_free_host), NULL } },
	[HMO_CUOP_HTOD] = { "cuMemcpyHtoD", "cuMemcpyHtoD_v2_ptds", 3020, { W(htod), WP(htod) } },
	[HMO_CUOP_DTOH] = { "cuMemcpyDtoH", "cuMemcpyDtoH_v2_ptds", 3020, { W(dtoh), WP(dtoh) } },
	[HMO_CUOP_HTOD_ASYNC] = { "cuMemcpyHtoDAsync", "cuMemcpyHtoDAsync_v2_ptsz", 3020,
			    { W(htod_async), WP(htod_async) } },
	[HMO_CUOP_DTOH_ASYNC] = { "cuMemcpyDtoHAsync", "cuMemcpyDtoHAsync_v2_ptsz", 3020,
			    { W(dtoh_async), WP(dtoh_async) } },
	[HMO_CUOP_2D] = { "cuMemcpy2D", "cuMemcpy2D_v2_ptds", 3020, { W(copy2d), WP(copy2d) } },
	[HMO_CUOP_2D_ASYNC] = { "cuMemcpy2DAsync", "cuMemcpy2DAsync_v2_ptsz", 3020,
			  { W(copy2d_async), WP(copy2d_async) } },
	[HMO_CUOP_RANGE] = { "cuMemGetAddressRange", NULL, 3020, { W(range), NULL } },
	[HMO_CUOP_PTR_ATTR] = { "cuPointerGetAttribute", NULL, 4000, { W(ptr_attr), NULL } },
	[HMO_CUOP_MEM_INFO] = { "cuMemGetInfo", NULL, 3020, { W(mem_info), NULL } },
	[HMO_CUOP_IPC_GET] = { "cuIpcGetMemHandle", NULL, 4010, { W(ipc_get), NULL } },
	[HMO_CUOP_STREAM_CREATE] = { "cuStreamCreate", NULL, 2000, { W(stream_create), NULL } },
	[HMO_CUOP_STREAM_CREATE_PRIO] = { "cuStreamCreateWithPriority", NULL, 5050,
				    { W(stream_create_prio), NULL } },
	[HMO_CUOP_CTX_DESTROY] = { "cuCtxDestroy", NULL, 4000, { W(ctx_destroy), NULL } },
	[HMO_CUOP_PRIMARY_RESET] = { "cuDevicePrimaryCtxReset", NULL, 11000,
			       { W(primary_reset), NULL } },
	[HMO_CUOP_PRIMARY_RELEASE] = { "cuDevicePrimaryCtxRelease", NULL, 11000,
				 { W(primary_release), NULL } },
	[HMO_CUOP_PTR_ATTRS] = { "cuPointerGetAttributes", NULL, 7000, { W(ptr_attrs), NULL } },
	[HMO_CUOP_MEM_ALLOC_ASYNC] = { "cuMemAllocAsync", "cuMemAllocAsync_ptsz", 11020,
				 { W(mem_alloc_async), WP(mem_alloc_async) } },
	[HMO_CUOP_MEM_FREE_ASYNC] = { "cuMemFreeAsync", "cuMemFreeAsync_ptsz", 11020,
				{ W(mem_free_async), WP(mem_free_async) } },
	[HMO_CUOP_MEM_ALLOC_MANAGED] = { "cuMemAllocManaged", NULL, 6000, { W(mem_alloc_managed), NULL } },
	[HMO_CUOP_MEM_CREATE] = { "cuMemCreate", NULL, 10020, { W(mem_create), NULL } },
	[HMO_CUOP_MEM_MAP] = { "cuMemMap", NULL, 10020, { W(mem_map), NULL } },
	[HMO_CUOP_GPA] = { "cuGetProcAddress", NULL, 11030, { W(gpa), NULL } },
	[HMO_CUOP_GPA2] = { "cuGetProcAddress_v2", NULL, 12000, { W(gpa2), NULL } },
	[HMO_CUOP_MEM_ALLOC_PITCH] = { "cuMemAllocPitch", NULL, 3020, { W(mem_alloc_pitch), NULL } },
	[HMO_CUOP_ARRAY_CREATE] = { "cuArrayCreate", NULL, 3020, { W(array_create), NULL } },
	[HMO_CUOP_ARRAY3D_CREATE] = { "cuArray3DCreate", NULL, 3020, { W(array3d_create), NULL } },
	/* the ABIs before the _v2 names (the same arguments): a lookup at an older
	 * version, or a program that asks for the old name, as FFmpeg's loader does */
	[HMO_CUOP_CTX_DESTROY_V1] = { "cuCtxDestroy", NULL, 2000, { W(ctx_destroy_v1), NULL } },
	[HMO_CUOP_PRIMARY_RESET_V1] = { "cuDevicePrimaryCtxReset", NULL, 7000,
				  { W(primary_reset_v1), NULL } },
	[HMO_CUOP_PRIMARY_RELEASE_V1] = { "cuDevicePrimaryCtxRelease", NULL, 7000,
				    { W(primary_release_v1), NULL } },
	[HMO_CUOP_BEGIN_CAPTURE] = { "cuStreamBeginCapture", "cuStreamBeginCapture_v2_ptsz", 10010,
			       { W(begin_capture), WP(begin_capture) } },
	[HMO_CUOP_BEGIN_CAPTURE_TO_GRAPH] = { "cuStreamBeginCaptureToGraph",
					"cuStreamBeginCaptureToGraph_ptsz", 12030,
					{ W(begin_capture_to_graph), WP(begin_capture_to_graph) } },
	[HMO_CUOP_END_CAPTURE] = { "cuStreamEndCapture", "cuStreamEndCapture_ptsz", 10000,
			     { W(end_capture), WP(end_capture) } },
	[HMO_CUOP_PRIMARY_RETAIN] = { "cuDevicePrimaryCtxRetain", NULL, 7000,
				{ W(primary_retain), NULL } },
	[HMO_CUOP_BEGIN_CAPTURE_V1] = { "cuStreamBeginCapture", "cuStreamBeginCapture_ptsz", 10000,
				  { W(begin_capture_v1), WP(begin_capture_v1) } },
	[HMO_CUOP_MEM_ALLOC_FROM_POOL] = { "cuMemAllocFromPoolAsync",
				     "cuMemAllocFromPoolAsync_ptsz", 11020,
				     { W(mem_alloc_from_pool), WP(mem_alloc_from_pool) } },
};

static pthread_mutex_t real_mu = PTHREAD_MUTEX_INITIALIZER;
static CUresult (*real_gpa)(const char *, void **, int, cuuint64_t, int *);
static CUresult (*real_gpa1)(const char *, void **, int, cuuint64_t);
static void *cuda_handle;	/* the handle the program dlsym'd driver names from */
static char lib_path[4096];	/* the driver library whose functions hmo holds */
static uintptr_t lib_addr;	/* ... and where it is loaded */
static bool lib_lost;		/* hmo's own lookup saw it go */

/* ---- the driver library ----------------------------------------------------------- */

/* Whether p lies in libhmo itself: one of hmo's wrappers or exports. */
static bool ours(const void *p)
{
	static void *self;
	Dl_info a, b;

	if (!p)
		return false;
	if (!self) {
		if (!dladdr((void *)&ours, &a))
			return false;
		self = a.dli_fbase;
	}
	return dladdr(p, &b) && b.dli_fbase == self;
}

/* Where the object named `name` is loaded now (its load bias, + 1), or 0 when it is
 * not: asked of the loader's list, which takes no reference (a dlopen of it would). */
struct lib_query {
	const char *name;
	uintptr_t at;
};

static int find_lib(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct lib_query *q = arg;

	(void)size;
	if (info->dlpi_name && !strcmp(info->dlpi_name, q->name)) {
		q->at = (uintptr_t)info->dlpi_addr + 1;	/* + 1: 0 is "not found" */
		return 1;
	}
	return 0;
}

static uintptr_t loaded_at(const char *name)
{
	struct lib_query q = { name, 0 };
	dl_iterate_phdr(find_lib, &q);
	return q.at;
}

static uintptr_t lib_loaded_at(void)
{
	return loaded_at(lib_path);
}

/* Remembers the library that real (a driver function, not hmo's) lives in. The
 * loader is asked with no hmo lock held (it takes its own). */
static void note_lib(const void *real)
{
	Dl_info info;

	if (__atomic_load_n(&lib_path[0], __ATOMIC_ACQUIRE) || !real || !dladdr(real, &info) || !info.dli_fname ||
	    strlen(info.dli_fname) >= sizeof lib_path)
		return;
	uintptr_t at = loaded_at(info.dli_fname);
	pthread_mutex_lock(&real_mu);
	if (!lib_path[0]) {
		memcpy(lib_path, info.dli_fname, strlen(info.dli_fname) + 1);
		lib_addr = at;
	}
	pthread_mutex_unlock(&real_mu);
}

/* sym as the driver library itself defines it, looked up on the library's handle
 * (its own scope: never the preloaded hmo); NULL when unknown. The handle is a
 * reference of its own, dropped at once: if that was the library's last (the program
 * closed it meanwhile), the library went with it, and the program's next lookup
 * finds hmo letting go of it (lib_lost). */
static void *lib_sym(const char *sym)
{
	void *h = lib_path[0] ? hmo_real_dlopen(lib_path, RTLD_LAZY | RTLD_NOLOAD) : NULL;

	if (!h)
		return NULL;
	void *p = hmo_real_dlsym(h, sym);
	hmo_real_dlclose(h);
	if (lib_loaded_at() != lib_addr) {
		__atomic_store_n(&lib_lost, true, __ATOMIC_RELEASE);
		return NULL;
	}
	return ours(p) ? NULL : p;
}

static void let_go(void);

/* A lookup returned p for sym: the real function, never hmo's own. */
static void *real_of(void *p, const char *sym)
{
	if (!ours(p))
		return p;
	int saved_errno = errno;
	hmo_guard_enter();
	p = sym ? lib_sym(sym) : NULL;
	hmo_guard_leave();
	errno = saved_errno;
	return p;
}

/* Records what a lookup returned for op's variant; returns the wrapper to hand out
 * instead, or the real function itself when a different one is already known for
 * that variant (two libcudas: the first one wins, the other is left alone). */
static void *adopt(enum hmo_cu_op op, int variant, void *got)
{
	void *wrap = fns[op].wrap[variant];

	if (!got || !wrap)
		return got;
	void *real = real_of(got, variant ? fns[op].sym_pt : hmo_cu_name(op));
	if (!real)
		return got;	/* hmo's own, and the library's is unknown: nothing to record */
	pthread_mutex_lock(&real_mu);
	void *cur = hmo_cu_real[op][variant];
	if (!cur)
		__atomic_store_n(&hmo_cu_real[op][variant], real, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&real_mu);
	if (!cur)
		note_lib(real);
	return !cur || cur == real ? wrap : real;
}

/* The real function of op's variant, found with dlsym(RTLD_NEXT) when the program
 * called hmo's export directly (it links libcuda), or on the driver library's handle
 * when hmo knows it. NULL when there is none. */
void *hmo_cu_next(enum hmo_cu_op op, int variant)
{
	void *r = __atomic_load_n(&hmo_cu_real[op][variant], __ATOMIC_ACQUIRE);

	if (r)
		return r;
	const char *name = variant ? fns[op].sym_pt : hmo_cu_name(op);
	if (!name)
		return NULL;
	int saved_errno = errno;
	hmo_guard_enter();
	r = dlsym(RTLD_NEXT, name);
	if (!r || ours(r))
		r = lib_sym(name);
	hmo_guard_leave();
	errno = saved_errno;
	return r ? (adopt(op, variant, r), r) : NULL;
}

/* ---- the driver's own entry points, for hmo's use --------------------------------- */

/* Any driver function, for hmo's own calls (events, synchronisation, staging):
 * through the program's own cuGetProcAddress if one was seen, else the driver
 * library, else the next definition; whichever answers, never hmo's own. */
void *hmo_cu_driver(const char *base, const char *sym, bool pt)
{
	cuuint64_t flags = pt ? CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM : 0;
	CUresult (*gpa2)(const char *, void **, int, cuuint64_t, int *) = __atomic_load_n(&real_gpa, __ATOMIC_ACQUIRE);
	CUresult (*gpa1)(const char *, void **, int, cuuint64_t) = __atomic_load_n(&real_gpa1, __ATOMIC_ACQUIRE);
	void *p = NULL;

	if (gpa2 && gpa2(base, &p, 12000, flags, NULL) == 0 && p && (p = real_of(p, sym)) != NULL)
		return p;
	p = NULL;
	if (gpa1 && gpa1(base, &p, 12000, flags) == 0 && p && (p = real_of(p, sym)) != NULL)
		return p;
	hmo_guard_enter();
	p = lib_sym(sym);
	if (!p && cuda_handle)
		p = hmo_real_dlsym(cuda_handle, sym);
	if (!p)
		p = dlsym(RTLD_NEXT, sym);
	hmo_guard_leave();
	return ours(p) ? NULL : p;
}

void hmo_cu_hooks_child(void)
{
	pthread_mutex_init(&real_mu, NULL);
	/* The child's summary counts its own calls, as for the other functions. */
	os_memset(hmo_cu_stats, 0, sizeof hmo_cu_stats);
}

/* After a dlclose: if the driver library hmo holds pointers into is gone (not in the
 * loader's list any more, or loaded elsewhere), they are all dropped, with everything
 * hmo made in that driver (without calling it: it is not there). The next load is
 * adopted as the first was. */
void hmo_cu_after_dlclose(void)
{
	if (!lib_path[0])
		return;
	int saved_errno = errno;
	hmo_guard_enter();
	if (lib_loaded_at() != lib_addr || __atomic_load_n(&lib_lost, __ATOMIC_ACQUIRE))
		let_go();
	hmo_guard_leave();
	errno = saved_errno;
}

static void let_go(void)
{
	pthread_mutex_lock(&real_mu);
	memset(hmo_cu_real, 0, sizeof hmo_cu_real);
	__atomic_store_n(&real_gpa, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&real_gpa1, NULL, __ATOMIC_RELEASE);
	cuda_handle = NULL;
	lib_path[0] = '\0';
	lib_addr = 0;
	__atomic_store_n(&lib_lost, false, __ATOMIC_RELEASE);
	__atomic_add_fetch(&hmo_cu_generation, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&real_mu);
	hmo_cu_forget_all();
	hmo_cu_mem_unloaded();
	hmo_cu_stage_unloaded();
}

/* ---- the lookups: dlsym and cuGetProcAddress ----------------------------------- */

static int find_sym(const char *name, int *variant)
{
	for (int i = 0; i < HMO_CUOP_COUNT; i++) {
		if (!strcmp(name, hmo_cu_name((unsigned)i))) {
			*variant = 0;
			return i;
		}
		if (fns[i].sym_pt && !strcmp(name, fns[i].sym_pt)) {
			*variant = 1;
			return i;
		}
	}
	return -1;
}

bool hmo_cu_wraps(const char *name)
{
	int v;
	return name[0] == 'c' && name[1] == 'u' && find_sym(name, &v) >= 0;
}

void *hmo_cu_dlsym(void *handle, const char *name, void *real)
{
	int v, op = find_sym(name, &v);

	if (op < 0 || !real)
		return real;
	if (__atomic_load_n(&lib_lost, __ATOMIC_ACQUIRE))
		let_go();	/* the program looks the driver up again: the old one went */
	if (handle != RTLD_DEFAULT && handle != RTLD_NEXT)
		cuda_handle = handle;
	return adopt((enum hmo_cu_op)op, v, real);
}

/* The real lookup has run and returned *pfn for `sym` at `version` with `flags`:
 * hand out the wrapper of exactly that variant, if hmo has one with that ABI. */
static void wrap_lookup(const char *sym, void **pfn, int version, cuuint64_t flags)
{
	if (!*pfn)
		return;
	if (!strcmp(sym, "cuGetProcAddress")) {
		/* The lookup itself, asked for by name: the wrapper, so later lookups are
		 * seen too. The real one has the _v2 signature from CUDA 12 on. */
		*pfn = version >= 12000 ? adopt(HMO_CUOP_GPA2, 0, *pfn) : adopt(HMO_CUOP_GPA, 0, *pfn);
		return;
	}
	/* of the wrappers of that name, the newest ABI the caller's version has */
	int best = -1;
	for (int i = 0; i < HMO_CUOP_COUNT; i++)
		if (!strcmp(sym, fns[i].base) && version >= fns[i].since && (best < 0 || fns[i].since > fns[best].since))
			best = i;
	if (best < 0)
		return;	/* not wrapped, or an older ABI than the wrappers' */
	int v = (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) && fns[best].sym_pt ? 1 : 0;
	*pfn = adopt((enum hmo_cu_op)best, v, *pfn);
}

CUresult cu_wrap_gpa2(const char *sym, void **pfn, int version, cuuint64_t flags, int *status)
{
	CUresult (*real)(const char *, void **, int, cuuint64_t, int *) = hmo_cu_next(HMO_CUOP_GPA2, 0);

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	__atomic_store_n(&real_gpa, real, __ATOMIC_RELEASE);
	CUresult rc = real(sym, pfn, version, flags, status);
	if (rc == CUDA_SUCCESS && pfn && sym)
		wrap_lookup(sym, pfn, version, flags);
	return rc;
}

CUresult cu_wrap_gpa(const char *sym, void **pfn, int version, cuuint64_t flags)
{
	CUresult (*real)(const char *, void **, int, cuuint64_t) = hmo_cu_next(HMO_CUOP_GPA, 0);

	if (!real)
		return CUDA_ERROR_NOT_INITIALIZED;
	__atomic_store_n(&real_gpa1, real, __ATOMIC_RELEASE);
	CUresult rc = real(sym, pfn, version, flags);
	if (rc == CUDA_SUCCESS && pfn && sym)
		wrap_lookup(sym, pfn, version, flags);
	return rc;
}

/* Exported, for programs linked to libcuda (the other wrappers' exports are in
 * the files that define them). */
#define EXPORT_ALIAS(name, target) \
	extern __typeof__(target) name __attribute__((alias(#target), visibility("default")))

EXPORT_ALIAS(cuGetProcAddress, cu_wrap_gpa);
EXPORT_ALIAS(cuGetProcAddress_v2, cu_wrap_gpa2);
