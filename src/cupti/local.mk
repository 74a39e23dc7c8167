# ---- libhmo-cupti.so: the CUPTI collector (src/cupti) -- included by Makefile.am
# Built where the toolkit has CUPTI; its sources are in the dist either way.
if HAVE_CUPTI
lib_LTLIBRARIES += libhmo-cupti.la
libhmo_cupti_la_SOURCES = src/cupti/collector.c src/cupti/convert.c src/cupti/convert.h src/common/trace.h \
	src/common/fmt.c src/common/fmt.h
libhmo_cupti_la_CPPFLAGS = $(AM_CPPFLAGS) $(CUPTI_CPPFLAGS)
libhmo_cupti_la_CFLAGS = $(AM_CFLAGS) $(SAN_LIB_CFLAGS) -fvisibility=hidden
libhmo_cupti_la_LDFLAGS = -module -avoid-version -no-undefined -shared
libhmo_cupti_la_LIBADD = $(CUPTI_LIBS) -ldl -lpthread
endif
EXTRA_DIST += src/cupti/convert.c src/cupti/convert.h src/cupti/collector.c
