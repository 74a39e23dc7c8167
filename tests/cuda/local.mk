# ---- CUDA programs on fake CUDA libraries (tests/cuda, tests/fakecuda) ---------
# -- included by Makefile.am.
# The fakes are never installed: libcuda.so.1 and libcudart.so.13 (its symbols
# versioned libcudart.so.13), and programs that reach the driver by each road:
# linked to the runtime, dlopen + dlsym, cuGetProcAddress.
FAKECUDA = tests/fakecuda/libcuda.so.1 tests/fakecuda/libcudart.so.13
FAKE_CF = $(AM_CFLAGS) $(CFLAGS) -Wno-missing-prototypes -I$(top_srcdir)/src -fPIC -shared -fvisibility=hidden
tests/fakecuda/libcuda.so.1: $(srcdir)/tests/fakecuda/fakecuda.c $(srcdir)/src/preload/cuda/defs.h
	@$(MKDIR_P) tests/fakecuda
	$(AM_V_CCLD)$(CC) $(FAKE_CF) -Wl,-soname,libcuda.so.1 -Wl,-Bsymbolic -o $@ $(srcdir)/tests/fakecuda/fakecuda.c -lpthread
tests/fakecuda/libcudart.so.13: $(srcdir)/tests/fakecuda/fakecudart.c $(srcdir)/tests/fakecuda/fakecudart.map \
		$(srcdir)/src/preload/cuda/defs.h
	@$(MKDIR_P) tests/fakecuda
	$(AM_V_CCLD)$(CC) $(FAKE_CF) -Wl,-soname,libcudart.so.13 -Wl,-Bsymbolic \
	  -Wl,--version-script=$(srcdir)/tests/fakecuda/fakecudart.map -o $@ $(srcdir)/tests/fakecuda/fakecudart.c -ldl -lpthread
CUDA_PROGS = tests/cuda/t_cudart tests/cuda/t_driver tests/cuda/t_ctx
check_PROGRAMS += $(CUDA_PROGS)
# A program built by nvcc with -cudart shared (its kernel is registered, not run).
if HAVE_NVCC
check_SCRIPTS += tests/cuda/t_nvcc
tests/cuda/t_nvcc: $(srcdir)/tests/cuda/t_nvcc.cu
	@$(MKDIR_P) tests/cuda
	$(AM_V_GEN)$(NVCC) -cudart shared -o $@ $(srcdir)/tests/cuda/t_nvcc.cu
endif
tests_cuda_t_cudart_CFLAGS = $(IP_CF)
tests_cuda_t_cudart_LDADD = tests/fakecuda/libcudart.so.13 -ldl
EXTRA_tests_cuda_t_cudart_DEPENDENCIES = $(FAKECUDA)
tests_cuda_t_driver_CFLAGS = $(IP_CF)
tests_cuda_t_driver_LDADD = -ldl
EXTRA_tests_cuda_t_driver_DEPENDENCIES = $(FAKECUDA)
tests_cuda_t_ctx_CFLAGS = $(IP_CF)
tests_cuda_t_ctx_LDADD = -ldl -lpthread
EXTRA_tests_cuda_t_ctx_DEPENDENCIES = $(FAKECUDA)
CLEANFILES += $(FAKECUDA) tests/cuda/t_nvcc

CUDA_TESTS = tests/cuda/cuda.sh tests/cuda/ctx.sh tests/cuda/nvcc.sh
# Long (make check-long): t_ctx's cases under every HMO_PIN and HMO_CUDA_POOL value,
# and Debian's ffmpeg on the fake.
CUDA_LONG_TESTS = tests/cuda/ctx-matrix.sh tests/cuda/ffmpeg.sh
FAST_TESTS += $(CUDA_TESTS)
LONG_TESTS += $(CUDA_LONG_TESTS)
EXTRA_DIST += $(CUDA_TESTS) $(CUDA_LONG_TESTS) tests/cuda/t_nvcc.cu \
	tests/fakecuda/fakecuda.c tests/fakecuda/fakecudart.c tests/fakecuda/fakecudart.map
