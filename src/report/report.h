/* report.h: what every output format of hmo-report shares: the orderings of call
 * sites, symbolized frames, the advice, and the number formats. */
#ifndef HMO_REPORT_REPORT_H
#define HMO_REPORT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "common/fmt.h"
#include "common/names.h"
#include "model.h"

enum site_order { BY_BYTES, BY_CALLS, BY_FAULTS, BY_COPY, BY_LEAK, NORDERS };

#define ADVICE_MAX 16

struct report {
	const struct model *m;			/* read only: outputs never change it */
	unsigned top;
	struct symbolizer **syms;	/* per process, made when first needed */
	const struct site **order[NORDERS];	/* sites with a nonzero key, largest first */
	size_t norder[NORDERS];
	char advice[ADVICE_MAX][400];
	unsigned nadvice;
	struct hmo_rec_fn calls[FN_COUNT];	/* counters summed over processes */
	bool counted;
};

/* After model_finish: orders the sites and works out the advice. */
void report_init(struct report *r, const struct model *m, unsigned top);
void report_done(struct report *r);

uint64_t site_key(const struct site *s, enum site_order o);
/* Frame i of a site's stack, symbolized. */
void report_frame(struct report *r, const struct site *s, unsigned i, char *buf, size_t cap);
/* Sum of the keys of the sites past the first `top` in an order, and how many. */
uint64_t report_rest(const struct report *r, enum site_order o, size_t *count);

/* How a process ended: exit, _exit, signal, exec or none (killed, or still running). */
const char *report_end(const struct proc *p);
/* The pool's choice of pages for the process, as libhmo's summary says it
 * ("frames on 4 KiB pages, reused: ..."); "" when its pool never started. */
#define REPORT_PAGES 512
const char *report_pages(char *buf, const struct proc *p);
/* The reason's name in the JSON report: "free_page_reporting", "thp_costly", ... */
const char *report_pages_why(unsigned why);
/* GPU copy directions and memory kinds (trace.h enums), as the report writes them. */
const char *report_gpu_dir(unsigned dir);
const char *report_gpu_mem(unsigned mem);
bool is_free_fn(unsigned fn);
bool is_map_fn(unsigned fn);

/* Formats into a buffer of at least 32 bytes, for printf's %s (fmt_add has %G for
 * grouped numbers). Bytes, times and rates are printf's rounding of a double, which
 * fmt's integer conversions do not repeat digit for digit: they stay here. */
const char *report_grouped(char *buf, uint64_t v);	/* 1,234,567 */
const char *report_bytes(char *buf, uint64_t v);	/* 49.8 MiB */
const char *report_ns(char *buf, uint64_t ns);		/* 12.0 ms */
const char *report_gbs(char *buf, uint64_t mbs);		/* MB/s as GB/s: 11.7 */
/* As an HMO_* size: 256K; at most T (fmt_size_option goes on to P and E). */
const char *report_opt_size(char *buf, uint64_t v);
double report_pct(uint64_t a, uint64_t b);
/* S as a line on stderr shows it: control characters as C escapes, cut after
 * FMT_SHOWN_MAX bytes (fmt_shown); BUF holds REPORT_SHOWN bytes. A path or an
 * argument can hold anything, a newline or a terminal's escape sequence. */
#define REPORT_SHOWN (FMT_SHOWN_MAX + 8)
const char *report_shown(char *buf, const char *s);
/* s as a JSON string, quoted and escaped (json.c and export.c). */
void report_json_str(FILE *o, const char *s);

void report_text(FILE *o, struct report *r);
void report_json(FILE *o, struct report *r);
/* --openmetrics: the families of HMO_METRICS, a sample per process and the totals;
 * user: the labels as hmo_metric_parse_labels gives them ("" for none). */
void report_openmetrics(FILE *o, const struct model *m, const char *user);

/* text.c's pieces, for the other text outputs (diff.c). text_fit: the N bytes at S
 * in at most W (>= 5) bytes of OUT (W + 1 bytes), the middle cut to "..." and control
 * characters as '?'; text_say: a sentence wrapped at 100 columns with a hanging
 * indent of two; text_heading: "== TITLE ===...". */
const char *text_fit(char *out, const char *s, size_t n, size_t w);
__attribute__((format(printf, 2, 3))) void text_say(FILE *o, const char *fmt, ...);
void text_heading(FILE *o, const char *title);
/* json.c's pieces: "KEY": and a value, after a comma unless *FIRST (then cleared). */
void jkey(FILE *o, bool *first, const char *k);
void jnum(FILE *o, bool *first, const char *k, uint64_t v);
void jint(FILE *o, bool *first, const char *k, int64_t v);
void jtext(FILE *o, bool *first, const char *k, const char *v);
void jbool(FILE *o, bool *first, const char *k, bool v);
/* Exports (export.c, html.c): 0, or -1 with the reason printed. */
int export_perfetto(struct report *r, const char *path);
/* cost: bytes, count, faults or copy. */
int export_flamegraph(struct report *r, const char *path, const char *cost);
int export_csv(struct report *r, const char *dir);
int export_html(struct report *r, const char *path);

#endif
