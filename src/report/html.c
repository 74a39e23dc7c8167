/* html.c: one self-contained HTML page (--html FILE): the overview, memory over time,
 * the size histogram, the copy bandwidth distribution, the top call sites and the
 * advice. The plots are inline SVG: no script, no file beside it, nothing fetched. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

#define W 900
#define H 260
#define L 70	/* left margin, for the axis labels */
#define B 40	/* bottom margin */

static void esc(FILE *o, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '&': fputs("&amp;", o); break;
		case '"': fputs("&quot;", o); break;
		default: fputc(*s, o);
		}
	}
}

static void axes(FILE *o, const char *ylabel, const char *xlabel)
{
	fprintf(o, "<line x1='%d' y1='%d' x2='%d' y2='%d' class='ax'/>", L, 10, L, H - B);
	fprintf(o, "<line x1='%d' y1='%d' x2='%d' y2='%d' class='ax'/>", L, H - B, W - 10, H - B);
	fprintf(o, "<text x='12' y='%d' transform='rotate(-90 12 %d)' class='lb'>", H / 2 + 40, H / 2 + 40);
	esc(o, ylabel);
	fputs("</text>", o);
	if (*xlabel) {
		fprintf(o, "<text x='%d' y='%d' class='lb'>", W / 2, H - 6);
		esc(o, xlabel);
		fputs("</text>", o);
	}
}

static const char *const colors[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd" };

/* Memory over time: RSS, AnonHugePages, pool live and cached, for each process. */
static void memory_plot(FILE *o, const struct model *m)
{
	uint64_t t0 = UINT64_MAX, t1 = 0, ymax = 1;
	char a[32], b[32];
	bool any = false;

	for (size_t i = 0; i < m->nprocs; i++) {
		const struct proc *p = &m->procs[i];
		for (size_t k = 0; k < p->nseries; k++) {
			const struct point *q = &p->series[k];
			any = true;
			t0 = q->t < t0 ? q->t : t0;
			t1 = q->t > t1 ? q->t : t1;
			uint64_t v = q->rss > q->pool_live + q->pool_cached ? q->rss : q->pool_live + q->pool_cached;
			ymax = v > ymax ? v : ymax;
		}
	}
	fputs("<h2>Memory over time</h2>", o);
	if (!any) {
		fputs("<p>No samples in the traces (HMO_INTERVAL=never, or the processes ended at once).</p>", o);
		return;
	}
	if (t1 == t0)
		t1 = t0 + 1;
	fprintf(o, "<svg width='%d' height='%d' role='img' aria-label='memory over time'>", W, H);
	axes(o, "bytes", "");
	fprintf(o, "<text x='%d' y='18' class='tk'>%s</text>", L - 4, report_bytes(a, ymax));
	fprintf(o, "<text x='%d' y='%d' class='tk'>%s</text>", W - 10, H - B + 14,
		report_ns(b, t1 - t0));
	static const char *const names[] = { "RSS", "AnonHugePages", "pool live", "pool cached" };
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct proc *p = &m->procs[i];
		if (!p->nseries)
			continue;
		for (int c = 0; c < 4; c++) {
			fprintf(o, "<polyline class='ln' stroke='%s' points='", colors[c]);
			for (size_t k = 0; k < p->nseries; k++) {
				const struct point *q = &p->series[k];
				uint64_t v = c == 0 ? q->rss : c == 1 ? q->anon_huge : c == 2 ? q->pool_live : q->pool_cached;
				double x = L + (double)(q->t - t0) / (double)(t1 - t0) * (W - 10 - L);
				double y = (H - B) - (double)v / (double)ymax * (H - B - 10);
				fprintf(o, "%.1f,%.1f ", x, y);
			}
			fputs("'/>", o);
		}
	}
	for (int c = 0; c < 4; c++)
		fprintf(o, "<rect x='%d' y='%d' width='10' height='10' fill='%s'/><text x='%d' y='%d' class='lg'>%s</text>",
			L + 10 + c * 150, H - B + 18, colors[c], L + 24 + c * 150, H - B + 27, names[c]);
	fputs("</svg>", o);
}

/* Bars over labelled buckets. */
static void bars(FILE *o, const char *title, const char *ylabel, const char *xlabel, const uint64_t *v,
		 const char (*labels)[24], int n)
{
	uint64_t ymax = 1;

	fprintf(o, "<h2>%s</h2>", title);
	if (n == 0) {
		fputs("<p>Nothing to plot.</p>", o);
		return;
	}
	for (int i = 0; i < n; i++)
		ymax = v[i] > ymax ? v[i] : ymax;
	fprintf(o, "<svg width='%d' height='%d' role='img' aria-label='", W, H);
	esc(o, title);
	fputs("'>", o);
	axes(o, ylabel, xlabel);
	fprintf(o, "<text x='%d' y='18' class='tk'>%llu</text>", L - 4, (unsigned long long)ymax);
	double bw = (double)(W - 10 - L) / n;
	for (int i = 0; i < n; i++) {
		double h = (double)v[i] / (double)ymax * (H - B - 10);
		fprintf(o, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'><title>%s: %llu</title></rect>",
			L + i * bw + 1, (H - B) - h, bw - 2, h, colors[0], labels[i], (unsigned long long)v[i]);
		if (n <= 24 || i % 2 == 0)
			fprintf(o, "<text x='%.1f' y='%d' class='tx'>%s</text>", L + i * bw + bw / 2, H - B + 14,
				labels[i]);
	}
	fputs("</svg>", o);
}

static void size_histogram(FILE *o, const struct report *r)
{
	uint64_t v[65];
	char labels[65][24];
	int lo = 64, hi = 0, n = 0;

	for (int k = 1; k < HMO_TRACE_BUCKETS; k++) {
		uint64_t c = 0;
		for (unsigned f = 0; f < FN_MMAP; f++)
			if (!is_free_fn(f) && f != FN_MALLOC_USABLE_SIZE)
				c += r->calls[f].hist[k];
		if (c) {
			lo = k < lo ? k : lo;
			hi = k > hi ? k : hi;
		}
	}
	for (int k = lo; k <= hi; k++) {
		v[n] = 0;
		for (unsigned f = 0; f < FN_MMAP; f++)
			if (!is_free_fn(f) && f != FN_MALLOC_USABLE_SIZE)
				v[n] += r->calls[f].hist[k];
		char b[32];
		snprintf(labels[n], sizeof labels[n], "%s", report_bytes(b, (uint64_t)1 << (k - 1)));
		n++;
	}
	bars(o, "Allocation sizes (every call, by power of two)", "calls", "size from", v,
	     (const char (*)[24])labels, n);
}

static void bandwidth(FILE *o, const struct model *m)
{
	uint64_t v[64] = { 0 };
	char labels[64][24];
	int n = 0, lo = 63, hi = 0;

	/* log2 buckets of MB/s, from the fine histogram */
	for (unsigned i = 0; i < LH_BUCKETS; i++) {
		if (!m->copy_rate.b[i])
			continue;
		int k = i < 8 ? 0 : (int)(i / 8);
		v[k] += m->copy_rate.b[i];
		lo = k < lo ? k : lo;
		hi = k > hi ? k : hi;
	}
	if (hi >= lo) {
		for (int k = lo; k <= hi; k++) {
			v[n] = v[k];
			snprintf(labels[n], sizeof labels[n], "%.2g GB/s", ldexp(1.0, k) / 1000.0);
			n++;
		}
	}
	bars(o, "Copy bandwidth (traced copies)", "copies", "GB/s from", v, (const char (*)[24])labels,
	     hi >= lo ? n : 0);
}

static void top_sites(FILE *o, struct report *r)
{
	char buf[512], a[32];
	size_t n = r->norder[BY_BYTES] < 10 ? r->norder[BY_BYTES] : 10;
	uint64_t max = n ? r->order[BY_BYTES][0]->alloc_bytes : 1;

	fputs("<h2>Top call sites by bytes (large blocks)</h2>", o);
	if (!n) {
		fputs("<p>No large blocks were traced.</p>", o);
		return;
	}
	fprintf(o, "<svg width='%d' height='%zu' role='img' aria-label='top call sites'>", W, n * 26 + 10);
	for (size_t i = 0; i < n; i++) {
		const struct site *s = r->order[BY_BYTES][i];
		double w = (double)s->alloc_bytes / (double)max * 330;
		if (s->pcs && s->depth)
			report_frame(r, s, 0, buf, sizeof buf);
		else
			snprintf(buf, sizeof buf, "(no stack)");
		fprintf(o, "<rect x='0' y='%zu' width='%.1f' height='20' fill='%s'/>", i * 26 + 4, w > 1 ? w : 1,
			colors[1]);
		fprintf(o, "<text x='340' y='%zu' class='st'>%s, %llu %s: ", i * 26 + 19,
			report_bytes(a, s->alloc_bytes), (unsigned long long)s->allocs,
			s->allocs == 1 ? "call" : "calls");
		esc(o, buf);
		fputs("</text>", o);
	}
	fputs("</svg>", o);
}

int export_html(struct report *r, const char *path)
{
	const struct model *m = r->m;
	FILE *o = fopen(path, "w");
	char a[32], b[32], c[32], shown[REPORT_SHOWN];

	if (!o) {
		fprintf(stderr, "hmo-report: %s: %s\n", report_shown(shown, path), strerror(errno));
		return -1;
	}
	fputs("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>hmo report</title>\n"
	      "<style>body{font:14px sans-serif;margin:24px;max-width:960px;color:#222}"
	      "h1{font-size:22px}h2{font-size:17px;margin-top:28px}"
	      "table{border-collapse:collapse}td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #ddd}"
	      "td{white-space:nowrap}td:first-child,th:first-child{text-align:left;white-space:normal}"
	      ".ax{stroke:#444}.ln{fill:none;stroke-width:1.5}.lb{font-size:12px;fill:#444}"
	      ".tk{font-size:11px;fill:#444;text-anchor:end}.tx{font-size:10px;fill:#444;text-anchor:middle}"
	      ".lg{font-size:12px}.st{font-size:12px;font-family:monospace}"
	      "li{margin:4px 0}</style></head><body>\n<h1>hmo report</h1>\n", o);
	fputs("<h2>Processes</h2><table><tr><th>process</th><th>ran</th><th>peak RSS</th>"
	      "<th>minor faults</th><th>on huge pages</th><th>end</th></tr>", o);
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct proc *p = &m->procs[i];
		char cmd[200];
		snprintf(cmd, sizeof cmd, "%u %.180s", p->pid, p->cmdline && *p->cmdline ? p->cmdline : p->exe);
		fputs("<tr><td>", o);
		esc(o, cmd);
		fprintf(o, "</td><td>%s</td><td>%s</td><td>%s</td><td>%.0f%%</td><td>%s</td></tr>",
			report_ns(a, p->last_ns - p->start_ns), report_bytes(b, p->peak_rss),
			report_grouped(c, p->minflt), report_pct(p->peak_anon_huge, p->peak_rss),
			strcmp(report_end(p), "none") ? report_end(p) : "killed?");
	}
	if (m->fold.count)
		fprintf(o, "<tr><td>and %s more processes, of lower peak RSS</td><td></td><td>at most %s</td>"
			"<td>%s</td><td></td><td></td></tr>", report_grouped(a, m->fold.count),
			report_bytes(b, m->fold.peak_rss), report_grouped(c, m->fold.minflt));
	fputs("</table>\n", o);
	memory_plot(o, m);
	size_histogram(o, r);
	bandwidth(o, m);
	top_sites(o, r);
	fputs("<h2>Advice</h2><ul>", o);
	for (unsigned i = 0; i < r->nadvice; i++) {
		fputs("<li>", o);
		esc(o, r->advice[i]);
		fputs("</li>", o);
	}
	if (!r->nadvice)
		fputs("<li>Nothing to change: no rule fired.</li>", o);
	fputs("</ul>\n</body></html>\n", o);
	if (fclose(o) != 0) {
		fprintf(stderr, "hmo-report: writing %s failed: %s\n", report_shown(shown, path), strerror(errno));
		return -1;
	}
	return 0;
}
