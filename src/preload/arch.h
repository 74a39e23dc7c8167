/* arch.h: the CPU's own instructions, in one place.
 *
 * hmo is built for x86-64 (configure refuses other CPUs). What is x86-specific sits
 * here and in arch.c behind a name that says what it is for, with the fallback a
 * port would start from: a spin-wait hint, the cache-line flush of hmo_flush, the
 * non-temporal copies of hmo_copy_stream, the relocation types that dlopen.c
 * patches, and the dlsym trampoline of dlsym.c. */
#ifndef HMO_PRELOAD_ARCH_H
#define HMO_PRELOAD_ARCH_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Inside a spin loop: tells the core another thread holds what it waits for. */
static inline void arch_cpu_relax(void)
{
#if defined(__x86_64__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

#pragma GCC visibility push(hidden)

/* Writes back and evicts the cache lines of [addr, addr+len). false where the CPU
 * has no such instruction hmo knows. */
bool arch_flush_lines(const void *addr, size_t len);

/* Copies the leading whole blocks (64 to 256 bytes, by the widest vector unit the
 * CPU has) of [src, src+n) to dst, which is 64-byte aligned, with stores that
 * bypass the cache; returns the bytes copied (0 where there is no such copy). The
 * caller copies the rest, then calls arch_store_fence before the data is read
 * elsewhere. */
size_t arch_stream_copy(char *dst, const char *src, size_t n);
void arch_store_fence(void);

#pragma GCC visibility pop

/* The relocations through which a library calls a function of another: dlopen.c
 * points those of RTLD_DEEPBIND libraries back at hmo's hooks. */
#if defined(__x86_64__)
#define ARCH_R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define ARCH_R_GLOB_DAT R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define ARCH_R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define ARCH_R_GLOB_DAT R_AARCH64_GLOB_DAT
#endif

/* dlsym(handle, name) as a trampoline: keeps both arguments, calls
 * route(handle, name), and jumps to what it returns with the arguments as they
 * were, so that the function reached sees the caller's return address (glibc's
 * dlsym finds the caller's object from it, for RTLD_NEXT). The stack is 16-byte
 * aligned at the call: 8 on entry, two pushes, 8 more. */
#if defined(__x86_64__)
#define ARCH_DLSYM_TRAMPOLINE(route)            \
	__asm__(".text\n"                        \
		".globl dlsym\n"                 \
		".type dlsym, @function\n"       \
		"dlsym:\n"                       \
		"\t.cfi_startproc\n"             \
		"\tendbr64\n"                    \
		"\tpushq %rdi\n"                 \
		"\t.cfi_adjust_cfa_offset 8\n"   \
		"\tpushq %rsi\n"                 \
		"\t.cfi_adjust_cfa_offset 8\n"   \
		"\tsubq $8, %rsp\n"              \
		"\t.cfi_adjust_cfa_offset 8\n"   \
		"\tcall " #route "\n"            \
		"\taddq $8, %rsp\n"              \
		"\t.cfi_adjust_cfa_offset -8\n"  \
		"\tpopq %rsi\n"                  \
		"\t.cfi_adjust_cfa_offset -8\n"  \
		"\tpopq %rdi\n"                  \
		"\t.cfi_adjust_cfa_offset -8\n"  \
		"\tjmp *%rax\n"                  \
		"\t.cfi_endproc\n"               \
		".size dlsym, .-dlsym\n");
#endif

#endif
