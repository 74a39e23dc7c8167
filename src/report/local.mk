# ---- hmo-report: streams traces into text (src/report) -- included by Makefile.am
bin_PROGRAMS += hmo-report
hmo_report_SOURCES = src/common/trace.h src/common/fmt.c src/common/fmt.h \
	src/common/names.c src/common/names.h \
	src/common/pages.c src/common/pages.h \
	src/common/metrics.c src/common/metrics.h \
	src/report/main.c \
	src/report/read.c src/report/read.h \
	src/report/model.c src/report/model.h \
	src/report/symbols.c src/report/symbols.h \
	src/report/report.c src/report/report.h \
	src/report/text.c \
	src/report/json.c \
	src/report/export.c \
	src/report/html.c \
	src/report/openmetrics.c \
	src/report/diff.c src/report/diff.h
hmo_report_CFLAGS = $(AM_CFLAGS) $(SAN_TOOL_CFLAGS) $(DW_CFLAGS)
hmo_report_LDFLAGS = $(SAN_TOOL_CFLAGS)
hmo_report_LDADD = $(DW_LIBS) -lm
