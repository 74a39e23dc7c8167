# ---- the examples of hmo.h (examples) -- included by Makefile.am ---------------
# Built against the build tree's libhmo and run by tests/interpose/examples.sh. Their
# sources are installed in $(docdir)/examples, and installcheck builds and runs them
# against the installed hmo with pkg-config.
EXAMPLES = examples/shm-handoff examples/copy-deadlines
check_PROGRAMS += $(EXAMPLES)
examplesdir = $(docdir)/examples
dist_examples_DATA = examples/shm-handoff.c examples/copy-deadlines.c
examples_shm_handoff_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/include
examples_shm_handoff_LDADD = libhmo.la -lpthread
examples_copy_deadlines_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/include
examples_copy_deadlines_LDADD = libhmo.la
