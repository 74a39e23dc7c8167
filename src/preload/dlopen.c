/* dlopen.c: libraries opened with RTLD_DEEPBIND.
 *
 * Such a library looks symbols up in itself and its own dependencies first, so its
 * calls to malloc, free and realloc bind straight to libc's and bypass hmo: a frame
 * hmo allocated and that library frees would reach glibc's free and crash it. After
 * the real dlopen, hmo points the allocation entries of the objects just opened at
 * its own hooks, by rewriting their GOT slots (JUMP_SLOT and GLOB_DAT relocations
 * of exactly those names). Every other symbol keeps the binding DEEPBIND gave it.
 *
 * With tracing on, dlopen and dlclose also write the module map again, so that
 * hmo-report can symbolize what the objects loaded later called. After a dlclose,
 * the CUDA layer checks that the driver library it holds is still loaded
 * (cuda/hooks.c). */
#include <dlfcn.h>
#include <errno.h>
#include <elf.h>
#include <link.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch.h"
#include "base.h"
#include "counters.h"
#include "real.h"
#include "tracer.h"
#include "cuda/cuda.h"

#ifdef ARCH_R_JUMP_SLOT
struct entry {
	const char *name;
	void *hook;
};

#define E(f) { #f, (void *)&f }
static const struct entry entries[] = {
	E(malloc), E(calloc), E(realloc), E(reallocarray), E(free), E(posix_memalign),
	E(aligned_alloc), E(memalign), E(valloc), E(pvalloc), E(malloc_usable_size),
	{ NULL, NULL },
};
#undef E

static void *hook_for(const char *name)
{
	for (const struct entry *e = entries; e->name; e++)
		if (strcmp(e->name, name) == 0)
			return e->hook;
	return NULL;
}

/* The object's RELRO range (read-only once relocated), from its program headers. */
struct relro {
	uintptr_t base, start, end;
};

static int find_relro(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct relro *r = arg;

	(void)size;
	if (info->dlpi_addr != r->base)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO) {
			r->start = r->base + info->dlpi_phdr[i].p_vaddr;
			r->end = r->start + info->dlpi_phdr[i].p_memsz;
		}
	}
	return 1;
}

/* Writes `value` into the GOT slot at `slot`. A slot in RELRO is read-only: its page
 * is made writable for the write and read-only again; any other slot is writable
 * already (lazy binding writes there too). */
static void write_slot(const struct relro *r, void **slot, void *value)
{
	uintptr_t page = (uintptr_t)slot & ~(uintptr_t)4095;
	bool ro = (uintptr_t)slot >= r->start && (uintptr_t)slot < r->end;

	if (*slot == value)
		return;
	if (ro && syscall(SYS_mprotect, page, 4096, PROT_READ | PROT_WRITE) != 0)
		return;
	__atomic_store_n(slot, value, __ATOMIC_RELEASE);
	if (ro)
		(void)syscall(SYS_mprotect, page, 4096, PROT_READ);
}

static void patch_relocs(struct link_map *lm, const struct relro *r, const ElfW(Rela) *rel,
			 size_t bytes, const ElfW(Sym) *symtab, const char *strtab)
{
	for (size_t i = 0; i < bytes / sizeof *rel; i++) {
		unsigned type = (unsigned)ELF64_R_TYPE(rel[i].r_info);
		if (type != ARCH_R_JUMP_SLOT && type != ARCH_R_GLOB_DAT)
			continue;
		const char *name = strtab + symtab[ELF64_R_SYM(rel[i].r_info)].st_name;
		void *hook = hook_for(name);
		if (hook)
			write_slot(r, (void **)(lm->l_addr + rel[i].r_offset), hook);
	}
}

/* glibc stores some dynamic entries already relocated, other C libraries do not. */
static const void *dyn_ptr(const struct link_map *lm, ElfW(Addr) v)
{
	return (const void *)(v < lm->l_addr ? v + lm->l_addr : v);
}

static void patch_object(struct link_map *lm)
{
	struct relro r = { lm->l_addr, 0, 0 };
	const ElfW(Rela) *jmprel = NULL, *rela = NULL;
	size_t jmprel_sz = 0, rela_sz = 0;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;

	for (const ElfW(Dyn) *d = lm->l_ld; d && d->d_tag != DT_NULL; d++) {
		switch (d->d_tag) {
		case DT_JMPREL: jmprel = dyn_ptr(lm, d->d_un.d_ptr); break;
		case DT_PLTRELSZ: jmprel_sz = d->d_un.d_val; break;
		case DT_RELA: rela = dyn_ptr(lm, d->d_un.d_ptr); break;
		case DT_RELASZ: rela_sz = d->d_un.d_val; break;
		case DT_SYMTAB: symtab = dyn_ptr(lm, d->d_un.d_ptr); break;
		case DT_STRTAB: strtab = dyn_ptr(lm, d->d_un.d_ptr); break;
		default: break;
		}
	}
	if (!symtab || !strtab || lm->l_addr == 0)	/* 0: the executable, never DEEPBIND */
		return;
	dl_iterate_phdr(find_relro, &r);
	if (jmprel)
		patch_relocs(lm, &r, jmprel, jmprel_sz, symtab, strtab);
	if (rela)
		patch_relocs(lm, &r, rela, rela_sz, symtab, strtab);
}
#endif

HMO_EXPORT void *dlopen(const char *file, int flags)
{
	void *h = hmo_real_dlopen(file, flags);
#ifdef ARCH_R_JUMP_SLOT
	struct link_map *lm = NULL;
	if (h && (flags & RTLD_DEEPBIND) && dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0) {
		int saved_errno = errno;
		hmo_guard_enter();
		/* The object and whatever this call loaded after it. */
		for (; lm; lm = lm->l_next)
			patch_object(lm);
		hmo_guard_leave();
		errno = saved_errno;
	}
#endif
	if (h && HMO_UNLIKELY(hmo_tracing))
		hmo_trace_modules();
	return h;
}

/* With tracing on, the module map is written again after an object goes, as after
 * one comes; and the CUDA layer lets go of a driver library that went. */
HMO_EXPORT int dlclose(void *h)
{
	int rc = hmo_real_dlclose(h);
	if (rc == 0) {
		hmo_cu_after_dlclose();
		if (HMO_UNLIKELY(hmo_tracing))
			hmo_trace_modules();
	}
	return rc;
}
