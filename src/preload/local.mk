# ---- libhmo.so: the interposer (src/preload) -- included by Makefile.am --------
# libhmo-core.la: every file below the hooks (doc/design.md, "Layers"), from the
# platform up to the CUDA layer. libhmo links it whole; the unit tests link it too,
# and call the pool, the counters, the trace writer and the CUDA block cache
# directly, without LD_PRELOAD. Built with libhmo's own flags, so that what the
# tests run is what libhmo runs (hidden visibility only keeps a name out of a
# shared object's exports: a program linking the archive still sees it).
noinst_LTLIBRARIES += libhmo-core.la
libhmo_core_la_SOURCES = $(COMMON_SOURCES) \
	src/preload/base.h src/preload/arch.c src/preload/arch.h \
	src/preload/os.c src/preload/os.h src/preload/memlimit.c \
	src/preload/process.c src/preload/process.h \
	src/preload/real.c src/preload/real.h \
	src/preload/bootstrap.c src/preload/bootstrap.h \
	src/preload/counters.c src/preload/counters.h \
	src/preload/fresh.c src/preload/fresh.h \
	src/preload/numa.c src/preload/numa.h \
	src/preload/pool.c src/preload/pool.h \
	src/preload/tracer.c src/preload/tracer.h \
	src/preload/cuda/defs.h src/preload/cuda/cuda.h src/preload/cuda/hooks.c src/preload/cuda/driver.c \
	src/preload/cuda/ctx.c src/preload/cuda/mem.c src/preload/cuda/stage.c
libhmo_core_la_CFLAGS = $(libhmo_la_CFLAGS)

lib_LTLIBRARIES += libhmo.la
# The hooks and the top (summary.c, metrics.c, init.c) over libhmo-core.la.
libhmo_la_SOURCES = \
	src/preload/alloc.c \
	src/preload/mmap.c src/preload/mmap.h \
	src/preload/copy.c src/preload/copy.h \
	src/preload/dlopen.c \
	src/preload/dlsym.c \
	src/preload/exec.c src/preload/exec.h \
	src/preload/api.c src/preload/instance.h \
	src/preload/copyeng.c src/preload/copyeng.h include/hmo.h \
	src/preload/summary.c src/preload/summary.h \
	src/preload/metrics.c src/preload/metrics.h \
	src/preload/init.c src/preload/init.h
# -fno-builtin and -fno-tree-loop-distribute-patterns keep the copy hooks from
# calling themselves; _FORTIFY_SOURCE would turn the hook definitions into inlines.
libhmo_la_CFLAGS = $(AM_CFLAGS) $(SAN_LIB_CFLAGS) $(NOLOOP_CFLAGS) \
	$(HWLOC_CFLAGS) $(UNWIND_CFLAGS) -I$(top_srcdir)/include -fvisibility=hidden -ftls-model=initial-exec -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=0
# libhmo.map names every symbol libhmo exports; all else is local, whatever its
# visibility in the objects. Its one node has no version name, so the exports carry
# no version and programs bind to them as before. tests/interpose/exports.sh checks
# that the map, the objects' default-visibility symbols and the library agree.
libhmo_la_LDFLAGS = -version-info 0:0:0 -no-undefined -Wl,-z,nodelete -Wl,-z,now \
	-Wl,--exclude-libs,jemalloc-hmo.a -Wl,--version-script=$(srcdir)/src/preload/libhmo.map
libhmo_la_LIBADD = libhmo-core.la jemalloc-hmo.a $(HWLOC_LIBS) $(UNWIND_LIBS) -ldl -lpthread -lm
EXTRA_libhmo_la_DEPENDENCIES = jemalloc-hmo.a $(srcdir)/src/preload/libhmo.map
EXTRA_DIST += src/preload/libhmo.map

# jemalloc's PIC archive with every public name prefixed hmo_je_ (its internal je_
# names are left as they are); --exclude-libs keeps all of it out of libhmo's exports
# (that archive only: libhmo-core.la is an archive too, and holds exports).
# Its constructor (.init_array) is dropped: jemalloc then starts on the pool's first
# frame, and a process that never allocates one pays nothing for it. Its reads of
# MALLOC_CONF (secure_getenv) and /etc/malloc.conf (readlink) go to pool.c, which
# answers "not set": the user's settings are for the user's allocator, not hmo's.
jemalloc-hmo.a: $(JEMALLOC_PIC)
	$(AM_V_GEN)undef=$$($(NM) -u $(JEMALLOC_PIC) | awk '{ print $$NF }' | sort -u) && \
	for sym in secure_getenv readlink; do \
	  printf '%s\n' "$$undef" | grep -qx "$$sym" || { echo "$(JEMALLOC_PIC) does not call $$sym: hmo could not keep MALLOC_CONF from it" >&2; exit 1; }; \
	done && \
	for sym in getenv __readlink_chk readlinkat; do \
	  printf '%s\n' "$$undef" | grep -qx "$$sym" && { echo "$(JEMALLOC_PIC) calls $$sym: hmo could not keep MALLOC_CONF from it" >&2; exit 1; }; \
	done; \
	$(NM) -g --defined-only $(JEMALLOC_PIC) | \
	  awk 'NF == 3 && $$3 !~ /^je_/ && $$3 !~ /^DW\./ { print $$3 " hmo_je_" $$3 }' | \
	  sort -u >jemalloc-hmo.syms && \
	printf '%s\n' 'secure_getenv hmo_je_secure_getenv' 'readlink hmo_je_readlink' >>jemalloc-hmo.syms && \
	$(OBJCOPY) --redefine-syms=jemalloc-hmo.syms --remove-section=.init_array $(JEMALLOC_PIC) $@
CLEANFILES += jemalloc-hmo.a jemalloc-hmo.syms
