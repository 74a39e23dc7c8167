/* hmo-report: reads hmo traces (files, or directories of *.trace files) and prints
 * where the memory time went. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/metrics.h"
#include "diff.h"
#include "model.h"
#include "report.h"

static void usage(FILE *o)
{
	fputs("usage: hmo-report [--json] [-o FILE] [--top N] TRACE|DIR...\n"
	      "       hmo-report --diff [--json] [-o FILE] [--top N] BEFORE AFTER\n"
	      "       hmo-report --openmetrics [--labels NAME=VALUE,...] [-o FILE] TRACE|DIR...\n"
	      "  Reads the traces that HMO_TRACE (or hmo-run) wrote, one file per process; a\n"
	      "  directory stands for the *.trace files in it. Prints an overview, allocations,\n"
	      "  latency, copies, the top call sites and advice.\n"
	      "  --json      the report as JSON (schema in doc/report-json.md)\n"
	      "  -o FILE     write the report to FILE instead of standard output\n"
	      "  --perfetto FILE    also write Chrome trace event JSON (ui.perfetto.dev)\n"
	      "  --flamegraph FILE  also write folded stacks (flamegraph.pl, speedscope)\n"
	      "  --cost bytes|count|faults|copy  what the flame graph weighs (default bytes)\n"
	      "  --csv DIR          also write one CSV file per table into DIR\n"
	      "  --html FILE        also write one self-contained HTML page with plots\n"
	      "  --top N     call sites in each list (default 5)\n"
	      "  --diff      compare two runs: BEFORE and AFTER are each a trace or a directory\n"
	      "              of traces; prints both sides' figures, the change (after minus\n"
	      "              before) and the call sites that changed most\n"
	      "  --openmetrics  the figures of HMO_METRICS instead, in Prometheus's text\n"
	      "              format: one sample per process and the totals (doc/metrics.md)\n"
	      "  --labels NAME=VALUE,...  with --openmetrics: labels for every sample, as\n"
	      "              HMO_METRICS_LABELS\n"
	      "  -h, --help  this text\n", o);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A trace's name: *.trace, or *.trace.1 to *.trace.9, which libhmo takes when the
 * name is in use (a program that execs itself keeps its pid and its name). */
static bool is_trace_name(const char *s)
{
	size_t len = strlen(s);

	if (len >= 8 && s[len - 2] == '.' && s[len - 1] >= '1' && s[len - 1] <= '9')
		len -= 2;
	return len >= 7 && strncmp(s + len - 6, ".trace", 6) == 0;
}

/* Reads the trace files of a directory, in name order. */
static void read_dir(struct model *m, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, shown[REPORT_SHOWN];
	size_t n = 0, cap = 0;

	if (!d) {
		fprintf(stderr, "hmo-report: %s: %s\n", report_shown(shown, dir), strerror(errno));
		m->files++;
		m->files_failed++;
		return;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (!is_trace_name(e->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **t = realloc(names, cap * sizeof *t);
			if (!t)
				break;
			names = t;
		}
		size_t sz = strlen(dir) + len + 2;
		names[n] = malloc(sz);
		if (!names[n])
			break;
		snprintf(names[n++], sz, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (!n) {
		fprintf(stderr, "hmo-report: %s: no *.trace files in this directory\n", report_shown(shown, dir));
		m->files++;
		m->files_failed++;
	}
	qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		model_read(m, names[i]);
		free(names[i]);
	}
	free(names);
}

/* Reads the traces and directories named into M: 0 when some process was read, or 1
 * with "nothing could be read" said (after the line of each failure), followed by
 * " from the SIDE side" when SIDE is not NULL (--diff). */
static int read_all(struct model *m, char **names, int n, const char *side)
{
	model_init(m);
	for (int i = 0; i < n; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && S_ISDIR(st.st_mode))
			read_dir(m, names[i]);
		else
			model_read(m, names[i]);
	}
	if (m->nprocs == 0) {
		fprintf(stderr, "hmo-report: nothing could be read%s%s%s\n", side ? " from the " : "", side ? side : "",
			side ? " side" : "");
		model_free(m);
		return 1;
	}
	model_finish(m);
	return 0;
}

/* Standard output, or FILE (NULL with the reason said). */
static FILE *open_out(const char *out)
{
	char shown[REPORT_SHOWN];
	FILE *o = out ? fopen(out, "w") : stdout;

	if (!o)
		fprintf(stderr, "hmo-report: %s: %s\n", report_shown(shown, out), strerror(errno));
	return o;
}

/* Closes what open_out gave: 0, or 1 with the reason said. */
static int close_out(FILE *o)
{
	if (o != stdout ? fclose(o) != 0 : fflush(o) != 0) {
		fprintf(stderr, "hmo-report: writing the report failed: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

/* hmo-report --diff BEFORE AFTER: both sides read as the report reads them. */
static int diff(char **sides, const char *out, bool json, unsigned top)
{
	struct model m[2];
	struct report r[2];
	int rc = 0;

	for (int k = 0; k < 2; k++) {
		if (read_all(&m[k], &sides[k], 1, k ? "after" : "before") != 0) {
			if (k)
				model_free(&m[0]);
			return 1;
		}
	}
	FILE *o = open_out(out);
	if (o) {
		for (int k = 0; k < 2; k++)
			report_init(&r[k], &m[k], top);
		if (json)
			diff_json(o, r, (const char *const *)sides);
		else
			diff_text(o, r, (const char *const *)sides);
		for (int k = 0; k < 2; k++)
			report_done(&r[k]);
		rc = close_out(o);
	} else
		rc = 1;
	model_free(&m[0]);
	model_free(&m[1]);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "top", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "perfetto", required_argument, NULL, 'p' },
		{ "flamegraph", required_argument, NULL, 'f' },
		{ "cost", required_argument, NULL, 'c' },
		{ "csv", required_argument, NULL, 'C' },
		{ "html", required_argument, NULL, 'H' },
		{ "diff", no_argument, NULL, 'd' },
		{ "openmetrics", no_argument, NULL, 'O' },
		{ "labels", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	unsigned top = 5;
	bool json = false, compare = false, openmetrics = false, top_given = false;
	const char *labels = NULL;
	char user[HMO_METRIC_LABELS_MAX] = "";
	const char *perfetto = NULL, *flame = NULL, *cost = "bytes", *csv = NULL, *html = NULL;
	struct model m;
	char shown[REPORT_SHOWN];
	int c;

	opterr = 0;	/* its lines would echo the argument raw: ours escape it */
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 1000) {
				fprintf(stderr, "hmo-report: --top %s: not a number from 1 to 1000\n",
					report_shown(shown, optarg));
				return 2;
			}
			top = (unsigned)v;
			top_given = true;
			break;
		}
		case 'j':
			json = true;
			break;
		case 'p':
			perfetto = optarg;
			break;
		case 'f':
			flame = optarg;
			break;
		case 'c':
			if (strcmp(optarg, "bytes") && strcmp(optarg, "count") && strcmp(optarg, "faults") &&
			    strcmp(optarg, "copy")) {
				fprintf(stderr, "hmo-report: --cost %s: not bytes, count, faults or copy\n",
					report_shown(shown, optarg));
				return 2;
			}
			cost = optarg;
			break;
		case 'C':
			csv = optarg;
			break;
		case 'H':
			html = optarg;
			break;
		case 'd':
			compare = true;
			break;
		case 'O':
			openmetrics = true;
			break;
		case 'L': {
			const char *why = hmo_metric_parse_labels(optarg, user, sizeof user);
			if (why) {
				fprintf(stderr, "hmo-report: --labels %s: %s\n", report_shown(shown, optarg), why);
				return 2;
			}
			labels = optarg;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "hmo-report: %s needs a value (see hmo-report --help)\n",
				report_shown(shown, argv[optind - 1]));
			return 2;
		default:
			fprintf(stderr, "hmo-report: unknown option %s (see hmo-report --help)\n",
				report_shown(shown, optopt ? (char[]){ '-', (char)optopt, 0 } : argv[optind - 1]));
			return 2;
		}
	}
	if (labels && !openmetrics) {
		fputs("hmo-report: --labels goes with --openmetrics only (see hmo-report --help)\n", stderr);
		return 2;
	}
	if (openmetrics) {
		const char *other = compare ? "--diff" : json ? "--json" : perfetto ? "--perfetto" : flame ? "--flamegraph"
				    : csv ? "--csv" : html ? "--html" : top_given ? "--top" : NULL;
		if (other) {
			fprintf(stderr, "hmo-report: --openmetrics does not go with %s (see hmo-report --help)\n", other);
			return 2;
		}
	}
	if (compare) {
		const char *other = perfetto ? "--perfetto" : flame ? "--flamegraph" : csv ? "--csv" : html ? "--html" : NULL;
		if (other) {
			fprintf(stderr, "hmo-report: --diff does not go with %s (see hmo-report --help)\n", other);
			return 2;
		}
		if (argc - optind != 2) {
			fputs("hmo-report: --diff needs two operands, BEFORE and AFTER, each a trace or a directory "
			      "(see hmo-report --help)\n", stderr);
			return 2;
		}
		return diff(argv + optind, out, json, top);
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (read_all(&m, argv + optind, argc - optind, NULL) != 0)
		return 1;
	FILE *o = open_out(out);
	if (!o) {
		model_free(&m);
		return 1;
	}
	int rc = 0;
	if (openmetrics) {
		report_openmetrics(o, &m, user);
		rc = close_out(o);
		model_free(&m);
		return rc;
	}
	struct report r;
	report_init(&r, &m, top);
	if (json)
		report_json(o, &r);
	else
		report_text(o, &r);
	if (perfetto && export_perfetto(&r, perfetto) != 0)
		rc = 1;
	if (flame && export_flamegraph(&r, flame, cost) != 0)
		rc = 1;
	if (csv && export_csv(&r, csv) != 0)
		rc = 1;
	if (html && export_html(&r, html) != 0)
		rc = 1;
	report_done(&r);
	if (close_out(o) != 0)
		rc = 1;
	model_free(&m);
	return rc;
}
