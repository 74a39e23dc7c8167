#include "options.h"

#include "fmt.h"
#include "metrics.h"

_Static_assert(HMO_LABELS_MAX == HMO_METRIC_LABELS_MAX, "one size of the labels' text");

#define KiB ((uint64_t)1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)
#define TiB (GiB * 1024)
#define FIELD(f) __builtin_offsetof(struct hmo_options, f)

const struct hmo_option_desc hmo_option_table[] = {
	{ "HMO_STATS", HMO_OPT_OUTPUT, "off", 0, 0, FIELD(stats),
	  "summary of intercepted calls at exit: 1 for stderr, or a file path (%p pid, %e executable, %t time)", NULL },
	{ "HMO_STATS_HIST", HMO_OPT_BOOL, "off", 0, 0, FIELD(stats_hist),
	  "add each function's log2 size histogram to the summary", NULL },
	{ "HMO_THRESHOLD", HMO_OPT_SIZE, "1M", 4 * KiB, TiB, FIELD(threshold),
	  "size at or above which an allocation is a frame, served by the frame pool (and a copy counts as large)", NULL },
	{ "HMO_POOL", HMO_OPT_BOOL, "on", 0, 0, FIELD(pool),
	  "serve frames from hmo's recycling pool; off forwards them to the program's allocator", NULL },
	{ "HMO_HUGEPAGES", HMO_OPT_ENUM, "auto", 0, 0, FIELD(hugepages),
	  "backing of pool memory: auto (reserved hugetlb pages, then THP where fresh huge pages are cheap, else 4 KiB pages), hugetlb (2 MiB), 1G, thp or off (4 KiB pages)",
	  (const char *const[]){ "auto", "hugetlb", "1G", "thp", "off", NULL } },
	{ "HMO_POOL_MAX", HMO_OPT_SIZE_RAM, "25%", 0, 0, FIELD(pool_max),
	  "most free memory the pool keeps cached for reuse: a size, or a percentage of the memory the process may use (its cgroup's limit, else physical memory)", NULL },
	{ "HMO_POOL_DECAY", HMO_OPT_MS, "10s", 0, 0, FIELD(pool_decay_ms),
	  "how long free pool memory stays cached before it goes back to the system (ms, s or m; never)", NULL },
	{ "HMO_PREFAULT", HMO_OPT_BOOL, "off", 0, 0, FIELD(prefault),
	  "populate new pool memory when it is mapped (MADV_POPULATE_WRITE), not at first touch", NULL },
	{ "HMO_NUMA", HMO_OPT_NUMA, "local", 0, 0, FIELD(numa),
	  "where pool memory goes: local (first touch), node:N, interleave[:LIST], preferred:N, or gpu (the node nearest the GPU)",
	  NULL },
	{ "HMO_MMAP", HMO_OPT_ENUM, "advise", 0, 0, FIELD(mmap_mode),
	  "the program's own anonymous private mmaps of at least HMO_THRESHOLD: advise (huge pages) or off",
	  (const char *const[]){ "advise", "off", NULL } },
	{ "HMO_TRACE", HMO_OPT_OUTPUT, "off", 0, 0, FIELD(trace),
	  "record a trace for hmo-report: a directory (one file per process), a path (%p pid, %e executable, %t time), or 1 for the current directory",
	  NULL },
	{ "HMO_TRACE_COPY_MIN", HMO_OPT_SIZE, "256K", 1, TiB, FIELD(trace_copy_min),
	  "copies (memcpy, memmove, memset) of at least this size are traced one by one, with their duration", NULL },
	{ "HMO_BACKTRACE", HMO_OPT_UINT, "16", 0, 64, FIELD(backtrace),
	  "call-stack depth recorded with each traced event (0 turns call sites off)", NULL },
	{ "HMO_SAMPLE", HMO_OPT_UINT, "1000", 0, 1000000000, FIELD(sample),
	  "while tracing, time one in this many calls below the threshold, for their latency (0: none)", NULL },
	{ "HMO_INTERVAL", HMO_OPT_MS, "100ms", 0, 0, FIELD(interval_ms),
	  "while tracing, how often RSS, page faults, huge pages and the pool's size are sampled; with HMO_METRICS, how often its file is rewritten (ms, s or m; never: at exit only)",
	  NULL },
	{ "HMO_CUDA_POOL", HMO_OPT_BOOL, "on", 0, 0, FIELD(cuda_pool),
	  "cache device (cudaMalloc, cuMemAlloc) and pinned host (cudaMallocHost, cuMemHostAlloc) memory for reuse", NULL },
	{ "HMO_CUDA_POOL_MAX", HMO_OPT_SIZE, "4G", 0, 64 * TiB, FIELD(cuda_pool_max),
	  "most free device memory the CUDA pool keeps cached (all of it goes back when the device runs out)", NULL },
	{ "HMO_CUDA_HOST_POOL_MAX", HMO_OPT_SIZE, "1G", 0, 64 * TiB, FIELD(cuda_host_pool_max),
	  "most free pinned host memory the CUDA pool keeps cached", NULL },
	{ "HMO_PIN", HMO_OPT_ENUM, "auto", 0, 0, FIELD(pin),
	  "host<->device copies of at least HMO_THRESHOLD from pageable memory: staged through pinned chunks (auto, or staging) or left to the driver (off)",
	  (const char *const[]){ "auto", "staging", "off", NULL } },
	{ "HMO_CUPTI", HMO_OPT_BOOL, "off", 0, 0, FIELD(cupti),
	  "start the CUPTI collector (libhmo-cupti.so) once the program's cuInit succeeds, to trace what the GPU saw (hmo-run --gpu)",
	  NULL },
	{ "HMO_COPY_THREADS", HMO_OPT_UINT, "2", 1, 64, FIELD(copy_threads),
	  "workers of hmo_copy_async (hmo.h), started at its first call", NULL },
	{ "HMO_STAGING_CHUNK", HMO_OPT_SIZE, "4M", 64 * KiB, GiB, FIELD(staging_chunk),
	  "size of each pinned chunk that staged copies go through", NULL },
	{ "HMO_STAGING_SLOTS", HMO_OPT_UINT, "4", 2, 64, FIELD(staging_slots),
	  "pinned chunks in the staging ring: the host copy of one overlaps the DMA of the others", NULL },
	{ "HMO_METRICS", HMO_OPT_PATH, "off", 0, 0, FIELD(metrics),
	  "write the process's figures in Prometheus text format every HMO_INTERVAL and at exit, replacing the file atomically: a path (%p pid, %e executable, %t time), or a directory (hmo-EXE-PID.prom in it), such as node_exporter's textfile directory",
	  NULL },
	{ "HMO_METRICS_LABELS", HMO_OPT_LABELS, "none", 0, 0, FIELD(metrics_labels),
	  "labels added to every HMO_METRICS sample besides exe and pid: NAME=VALUE,NAME=VALUE (job=encode,host=a1)",
	  NULL },
};

uint64_t hmo_options_ram = 8 * GiB;
const size_t hmo_option_count = sizeof(hmo_option_table) / sizeof(hmo_option_table[0]);

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool eq_nocase(const char *a, const char *b)
{
	while (*a && *b && lower(*a) == lower(*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

const char *hmo_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "on", "yes", "true" };
	static const char *const no[] = { "0", "off", "no", "false" };

	for (unsigned i = 0; i < 4; i++) {
		if (eq_nocase(s, yes[i])) {
			*out = true;
			return NULL;
		}
		if (eq_nocase(s, no[i])) {
			*out = false;
			return NULL;
		}
	}
	return "not a boolean (1/0, on/off, yes/no)";
}

/* The decimal number at *p, at most `max`; advances *p past it. Returns NULL, `bad`
 * when there is no digit, or "too large". */
static const char *leading_number(const char **p, uint64_t max, const char *bad, uint64_t *out)
{
	uint64_t v = 0;

	if (**p < '0' || **p > '9')
		return bad;
	for (; **p >= '0' && **p <= '9'; (*p)++) {
		uint64_t d = (uint64_t)(**p - '0');
		if (v > (max - d) / 10)
			return "too large";
		v = v * 10 + d;
	}
	*out = v;
	return NULL;
}

const char *hmo_parse_size(const char *s, uint64_t *out)
{
	static const char *const bad = "not a size (a whole number with an optional K, M, G or T suffix)";
	uint64_t v, mul = 1;
	const char *p = s, *why;

	if ((why = leading_number(&p, UINT64_MAX, bad, &v)))
		return why;
	switch (lower(*p)) {
	case 'k': mul = KiB; p++; break;
	case 'm': mul = MiB; p++; break;
	case 'g': mul = GiB; p++; break;
	case 't': mul = TiB; p++; break;
	default: break;
	}
	/* Allow the unit spelt out: 2M, 2MB, 2MiB, 4096B. */
	if (mul != 1 && lower(p[0]) == 'i' && lower(p[1]) == 'b')
		p += 2;
	else if (lower(*p) == 'b')
		p++;
	if (*p != '\0')
		return bad;
	if (v > UINT64_MAX / mul)
		return "too large";
	*out = v * mul;
	return NULL;
}

const char *hmo_parse_uint(const char *s, uint64_t *out)
{
	const char *p = s, *why;
	uint64_t v;

	if ((why = leading_number(&p, UINT64_MAX, "not a whole number", &v)))
		return why;
	if (*p != '\0')
		return "not a whole number";
	*out = v;
	return NULL;
}

const char *hmo_parse_output(const char *s, struct hmo_output *out)
{
	bool on = false;
	size_t n = 0;

	/* "" and the booleans choose off or stderr; anything else is a path. */
	if (*s == '\0' || eq_nocase(s, "stderr") || hmo_parse_bool(s, &on) == NULL) {
		out->kind = (on || eq_nocase(s, "stderr")) ? HMO_DEST_STDERR : HMO_DEST_OFF;
		out->path[0] = '\0';
		return NULL;
	}
	for (const char *p = s; *p; p++, n++) {
		if (*p == '%') {
			char c = p[1];
			if (c != 'p' && c != 'e' && c != 't' && c != '%')
				return "a path with an unknown %-escape (known: %p pid, %e executable, %t time, %% a percent sign)";
			p++;
			n++;
		}
	}
	/* Leave room for the expansions and a ".PID" suffix. */
	if (n + 64 >= HMO_PATH_MAX)
		return "too long for a path";
	for (n = 0; s[n]; n++)
		out->path[n] = s[n];
	out->path[n] = '\0';
	out->kind = HMO_DEST_FILE;
	return NULL;
}

const char *hmo_parse_path(const char *s, struct hmo_output *out)
{
	struct hmo_output o;
	const char *why = hmo_parse_output(s, &o);

	if (why)
		return why;
	if (o.kind == HMO_DEST_STDERR)
		return "not off or a path (the file is replaced as a whole, which stderr cannot be)";
	out->kind = o.kind;
	for (size_t n = 0; n == 0 || o.path[n - 1]; n++)
		out->path[n] = o.path[n];
	return NULL;
}

const char *hmo_parse_labels(const char *s, char *out)
{
	if (*s == '\0' || eq_nocase(s, "none")) {
		out[0] = '\0';
		return NULL;
	}
	return hmo_metric_parse_labels(s, out, HMO_LABELS_MAX);
}

const char *hmo_parse_enum(const char *s, const char *const *choices, unsigned *out)
{
	for (unsigned i = 0; choices[i]; i++) {
		if (eq_nocase(s, choices[i])) {
			*out = i;
			return NULL;
		}
	}
	return "not one of the choices";
}

const char *hmo_parse_ms(const char *s, int64_t *out)
{
	static const char *const bad = "not a duration (a whole number of ms, or with an s or m suffix; or never)";
	uint64_t v, mul = 1;
	const char *p = s, *why;

	if (eq_nocase(s, "never")) {
		*out = -1;
		return NULL;
	}
	if ((why = leading_number(&p, (uint64_t)1 << 40, bad, &v)))
		return why;
	if (lower(p[0]) == 'm' && lower(p[1]) == 's')
		p += 2;
	else if (lower(*p) == 's')
		mul = 1000, p++;
	else if (lower(*p) == 'm')
		mul = 60000, p++;
	if (*p != '\0')
		return bad;
	*out = (int64_t)(v * mul);
	return NULL;
}

const char *hmo_parse_size_ram(const char *s, uint64_t ram, uint64_t *out)
{
	uint64_t pct = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9' && pct <= 100; p++)
		pct = pct * 10 + (uint64_t)(*p - '0');
	if (p == s || *p != '%' || p[1] != '\0')
		return hmo_parse_size(s, out);
	if (pct < 1 || pct > 100)
		return "not a percentage from 1% to 100%";
	*out = (uint64_t)((unsigned __int128)ram * pct / 100);
	return NULL;
}

/* A node number 0-63 at *p; advances *p. -1 when there is none. */
static int parse_node(const char **p)
{
	int v = 0, digits = 0;

	while (**p >= '0' && **p <= '9' && digits < 3) {
		v = v * 10 + (**p - '0');
		(*p)++;
		digits++;
	}
	return digits && v < 64 ? v : -1;
}

/* "a" or "a-b" items separated by commas, to the end of the string. */
static const char *parse_node_list(const char *p, uint64_t *out)
{
	uint64_t m = 0;

	for (;;) {
		int a = parse_node(&p), b = a;
		if (a < 0)
			return "a node list with a bad node (numbers 0 to 63, as 0-3,6)";
		if (*p == '-') {
			p++;
			b = parse_node(&p);
			if (b < a)
				return "a node list with a bad range (as 0-3)";
		}
		for (int i = a; i <= b; i++)
			m |= (uint64_t)1 << i;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return "a node list with a stray character (as 0-3,6)";
	}
	*out = m;
	return NULL;
}

/* Case-insensitive prefix: returns what follows `word` in `s`, or NULL. */
static const char *after(const char *s, const char *word)
{
	while (*word && lower(*s) == *word) {
		s++;
		word++;
	}
	return *word ? NULL : s;
}

const char *hmo_parse_numa(const char *s, struct hmo_numa *out)
{
	static const char *const bad = "not a placement (local, node:N, interleave[:LIST], preferred:N or gpu)";
	struct hmo_numa v = { HMO_NUMA_LOCAL, 0 };
	const char *p, *why;

	if (eq_nocase(s, "local")) {
		/* v as set */
	} else if (eq_nocase(s, "gpu")) {
		v.mode = HMO_NUMA_GPU;
	} else if (eq_nocase(s, "interleave")) {
		v.mode = HMO_NUMA_INTERLEAVE;
	} else if ((p = after(s, "interleave:")) != NULL) {
		v.mode = HMO_NUMA_INTERLEAVE;
		if ((why = parse_node_list(p, &v.nodes)))
			return why;
	} else if ((p = after(s, "node:")) != NULL || (p = after(s, "preferred:")) != NULL) {
		int n = parse_node(&p);
		if (n < 0 || *p != '\0')
			return "a placement with a bad node number (0 to 63)";
		v.mode = lower(s[0]) == 'n' ? HMO_NUMA_NODE : HMO_NUMA_PREFERRED;
		v.nodes = (uint64_t)1 << n;
	} else {
		return bad;
	}
	*out = v;
	return NULL;
}

const char *hmo_opt_type_name(enum hmo_opt_type t)
{
	switch (t) {
	case HMO_OPT_BOOL: return "boolean";
	case HMO_OPT_SIZE: return "size";
	case HMO_OPT_OUTPUT: return "off, 1 or path";
	case HMO_OPT_ENUM: return "choice";
	case HMO_OPT_MS: return "duration";
	case HMO_OPT_SIZE_RAM: return "size or %";
	case HMO_OPT_NUMA: return "placement";
	case HMO_OPT_UINT: return "number";
	case HMO_OPT_PATH: return "off or path";
	case HMO_OPT_LABELS: return "labels";
	}
	return "?";
}

/* Parses `s` for row `d` into `o`. Returns NULL or the reason it was refused. */
static const char *parse_row(const struct hmo_option_desc *d, const char *s, struct hmo_options *o)
{
	char *field = (char *)o + d->offset;
	const char *why;

	switch (d->type) {
	case HMO_OPT_BOOL:
		return hmo_parse_bool(s, (bool *)field);
	case HMO_OPT_SIZE:
	case HMO_OPT_UINT: {
		uint64_t v;
		if ((why = (d->type == HMO_OPT_SIZE ? hmo_parse_size : hmo_parse_uint)(s, &v)))
			return why;
		if (v < d->min || v > d->max)
			return "out of range";
		*(uint64_t *)field = v;
		return NULL;
	}
	case HMO_OPT_OUTPUT:
		/* writes nothing unless the value is accepted */
		return hmo_parse_output(s, (struct hmo_output *)field);
	case HMO_OPT_ENUM:
		return hmo_parse_enum(s, d->choices, (unsigned *)field);
	case HMO_OPT_MS:
		return hmo_parse_ms(s, (int64_t *)field);
	case HMO_OPT_SIZE_RAM:
		return hmo_parse_size_ram(s, hmo_options_ram, (uint64_t *)field);
	case HMO_OPT_NUMA:
		return hmo_parse_numa(s, (struct hmo_numa *)field);
	case HMO_OPT_PATH:
		return hmo_parse_path(s, (struct hmo_output *)field);
	case HMO_OPT_LABELS:
		return hmo_parse_labels(s, field);
	}
	return "of an unknown type";
}

void hmo_options_defaults(struct hmo_options *o)
{
	for (size_t i = 0; i < hmo_option_count; i++)
		(void)parse_row(&hmo_option_table[i], hmo_option_table[i].def, o);
}

static void warn_bad(const struct hmo_option_desc *d, const char *value, const char *why,
		     void (*warn)(const char *line))
{
	char mem[512];
	struct fmt_buf b;

	fmt_init(&b, mem, sizeof mem);
	fmt_str(&b, "hmo: ");
	fmt_str(&b, d->name);
	fmt_str(&b, "=\"");
	fmt_shown(&b, value, SIZE_MAX, FMT_SHOWN_MAX);
	fmt_str(&b, "\" ");
	fmt_str(&b, "is ");
	fmt_str(&b, why);
	if (d->type == HMO_OPT_SIZE) {
		fmt_str(&b, " (accepted: ");
		fmt_size_option(&b, d->min);
		fmt_str(&b, " to ");
		fmt_size_option(&b, d->max);
		fmt_char(&b, ')');
	}
	if (d->type == HMO_OPT_UINT) {
		fmt_str(&b, " (accepted: ");
		fmt_u64(&b, d->min);
		fmt_str(&b, " to ");
		fmt_u64(&b, d->max);
		fmt_char(&b, ')');
	}
	if (d->type == HMO_OPT_ENUM) {
		fmt_str(&b, " (");
		for (unsigned i = 0; d->choices[i]; i++) {
			fmt_str(&b, i ? ", " : "");
			fmt_str(&b, d->choices[i]);
		}
		fmt_char(&b, ')');
	}
	fmt_str(&b, "; using the default ");
	fmt_str(&b, d->def);
	warn(b.p);
}

int hmo_options_load(struct hmo_options *o, const char *(*get)(const char *name),
		     void (*warn)(const char *line))
{
	int warnings = 0;

	hmo_options_defaults(o);
	for (size_t i = 0; i < hmo_option_count; i++) {
		const struct hmo_option_desc *d = &hmo_option_table[i];
		const char *v = get(d->name);
		const char *why;

		if (!v)
			continue;
		if ((why = parse_row(d, v, o))) {
			warn_bad(d, v, why, warn);
			warnings++;
		}
	}
	return warnings;
}

int hmo_options_check_unknown(char *const *envp, bool secure, void (*warn)(const char *line))
{
	int warnings = 0;
	uint64_t ignored = 0;

	for (; envp && *envp; envp++) {
		const char *e = *envp;
		size_t n = 0;
		bool known = false;

		if (e[0] != 'H' || e[1] != 'M' || e[2] != 'O' || e[3] != '_')
			continue;
		if (secure) {
			ignored++;
			continue;
		}
		while (e[n] && e[n] != '=')
			n++;
		for (size_t i = 0; i < hmo_option_count && !known; i++) {
			const char *name = hmo_option_table[i].name;
			size_t k = 0;
			while (k < n && name[k] == e[k])
				k++;
			known = (k == n && name[k] == '\0');
		}
		if (!known) {
			char mem[512];
			struct fmt_buf b;
			fmt_init(&b, mem, sizeof mem);
			fmt_str(&b, "hmo: unknown variable ");
			fmt_shown(&b, e, n, FMT_SHOWN_MAX);
			fmt_str(&b, " ignored (see the HMO_* list in hmo's README)");
			warn(b.p);
			warnings++;
		}
	}
	if (ignored) {
		/* The names are not echoed: whoever set them may not be whoever reads
		 * this program's stderr. */
		char mem[256];
		struct fmt_buf b;
		fmt_init(&b, mem, sizeof mem);
		fmt_str(&b, "hmo: ");
		fmt_u64(&b, ignored);
		fmt_str(&b, ignored == 1 ? " HMO_* variable" : " HMO_* variables");
		fmt_str(&b, " ignored: a set-user-ID, set-group-ID or capability-raising program reads none");
		warn(b.p);
		warnings++;
	}
	return warnings;
}
