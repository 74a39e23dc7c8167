/* metrics.c: the families of hmo's Prometheus text and the pieces it is written
 * with (metrics.h). No malloc, no stdio: libhmo writes with these. */
#include "metrics.h"

#define C HMO_METRIC_COUNTER
#define G HMO_METRIC_GAUGE

const struct hmo_metric_family hmo_metric_families[HMO_M_COUNT] = {
	[HMO_M_RUNNING] = { "hmo_running", G,
		"1 while the process runs; 0 in the figures written at its exit", NULL },
	[HMO_M_ELAPSED] = { "hmo_elapsed_seconds", G, "Time since hmo started in the process", NULL },
	[HMO_M_THRESHOLD] = { "hmo_threshold_bytes", G,
		"HMO_THRESHOLD: the size from which an allocation is a frame and a call is large", NULL },
	[HMO_M_CALLS] = { "hmo_calls_total", C, "Calls of each interposed function", "function" },
	[HMO_M_BYTES] = { "hmo_bytes_total", C,
		"Bytes asked for, copied, set or mapped by each interposed function that has a size", "function" },
	[HMO_M_LARGE_CALLS] = { "hmo_large_calls_total", C,
		"Calls of each function of at least HMO_THRESHOLD bytes", "function" },
	[HMO_M_LARGE_BYTES] = { "hmo_large_bytes_total", C,
		"Bytes of each function's calls of at least HMO_THRESHOLD bytes", "function" },
	[HMO_M_LARGE_COPY_BYTES] = { "hmo_large_copy_bytes_total", C,
		"Bytes of the copies (memcpy, memmove, memset and their _chk forms) of at least HMO_THRESHOLD bytes",
		NULL },
	[HMO_M_LARGE_COPY_TIMED_BYTES] = { "hmo_large_copy_timed_bytes_total", C,
		"Bytes of the large copies that were timed (a thread's first is not): over hmo_large_copy_seconds_total, their rate",
		NULL },
	[HMO_M_LARGE_COPY_SECONDS] = { "hmo_large_copy_seconds_total", C, "Time spent in the timed large copies",
		NULL },
	[HMO_M_API_COPIES] = { "hmo_api_copies_total", C,
		"Copies through hmo.h (hmo_copy_stream, hmo_copy_numa, hmo_copy_async)", NULL },
	[HMO_M_API_COPY_BYTES] = { "hmo_api_copy_bytes_total", C, "Bytes of the copies through hmo.h", NULL },
	[HMO_M_API_COPY_SECONDS] = { "hmo_api_copy_seconds_total", C,
		"Time spent in the copies through hmo.h, summed over the threads that copied", NULL },
	[HMO_M_FRAMES] = { "hmo_pool_frames_total", C,
		"Frames (allocations of at least HMO_THRESHOLD) by how they were served: hit (reused memory), new (fresh memory), fallback (the program's allocator)",
		"outcome" },
	[HMO_M_FRAMES_FREED] = { "hmo_pool_frames_freed_total", C, "Frames given back to the frame pool", NULL },
	[HMO_M_FRAME_BYTES] = { "hmo_pool_frame_bytes_total", C, "Usable bytes of the frames the pool served",
		NULL },
	[HMO_M_FAULTS_AVOIDED] = { "hmo_pool_faults_avoided_total", C,
		"Page faults avoided by reusing frames (estimated: the 4 KiB pages of the reused frames)", NULL },
	[HMO_M_POOL_MAPPED] = { "hmo_pool_mapped_bytes", G,
		"Memory the frame pool has mapped, by backing: hugetlb pages, thp (transparent huge pages) or 4k pages",
		"backing" },
	[HMO_M_POOL_RESIDENT] = { "hmo_pool_resident_bytes", G,
		"The frame pool's memory resident on each NUMA node (sampled)", "node" },
	[HMO_M_POOL_LIVE] = { "hmo_pool_live_bytes", G, "Bytes of the frames in use now", NULL },
	[HMO_M_POOL_PEAK] = { "hmo_pool_peak_live_bytes", G, "Most bytes of frames in use at once", NULL },
	[HMO_M_POOL_RELEASED] = { "hmo_pool_released_bytes_total", C,
		"Cached frame memory the pool gave back to the kernel", NULL },
	[HMO_M_PAGE_FAULTS] = { "hmo_page_faults_total", C, "Page faults of the process, minor and major",
		"kind" },
	[HMO_M_PEAK_RSS] = { "hmo_peak_rss_bytes", G, "Peak resident set size of the process", NULL },
	[HMO_M_CUDA_CALLS] = { "hmo_cuda_calls_total", C, "Calls of each CUDA driver function hmo wraps", "op" },
	[HMO_M_CUDA_BYTES] = { "hmo_cuda_bytes_total", C,
		"Bytes allocated or copied by each CUDA driver function", "op" },
	[HMO_M_CUDA_SECONDS] = { "hmo_cuda_seconds_total", C, "Time spent in each CUDA driver function", "op" },
	[HMO_M_CUDA_ERRORS] = { "hmo_cuda_errors_total", C,
		"Calls of each CUDA driver function that returned an error", "op" },
	[HMO_M_CUDA_DEVICE_POOL] = { "hmo_cuda_device_pool_allocations_total", C,
		"Device allocations by whether hmo's device pool served them (hit) or the driver (miss)", "outcome" },
	[HMO_M_CUDA_PINNED_POOL] = { "hmo_cuda_pinned_pool_allocations_total", C,
		"Pinned host allocations by whether hmo's pinned pool served them (hit) or the driver (miss)",
		"outcome" },
	[HMO_M_CUDA_STAGED_BYTES] = { "hmo_cuda_staged_bytes_total", C,
		"Bytes of pageable copies hmo staged through pinned chunks, by direction (htod, dtoh)", "direction" },
	[HMO_M_CUDA_DEVICE_CACHED] = { "hmo_cuda_device_pool_cached_bytes", G,
		"Free device memory hmo's device pool holds for reuse", NULL },
	[HMO_M_CUDA_DEVICE_PEAK_CACHED] = { "hmo_cuda_device_pool_peak_cached_bytes", G,
		"Most free device memory hmo's device pool held at once", NULL },
	[HMO_M_CUDA_DEVICE_RELEASED] = { "hmo_cuda_device_pool_released_bytes_total", C,
		"Cached device memory hmo's device pool gave back to the driver", NULL },
	[HMO_M_CUDA_PINNED_CACHED] = { "hmo_cuda_pinned_pool_cached_bytes", G,
		"Free pinned host memory hmo's pinned pool holds for reuse", NULL },
	[HMO_M_CUDA_DEVICE_FREE] = { "hmo_cuda_device_free_bytes", G,
		"Free device memory at the program's last cuMemGetInfo", NULL },
	[HMO_M_CUDA_DEVICE_TOTAL] = { "hmo_cuda_device_total_bytes", G,
		"Device memory at the program's last cuMemGetInfo", NULL },
};

#undef C
#undef G

static size_t length(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static bool same(const char *s, size_t n, const char *word)
{
	size_t i = 0;

	for (; i < n && word[i] && s[i] == word[i]; i++)
		;
	return i == n && word[i] == '\0';
}

/* s[0..n) with \ and a newline as \\ and \n, and with quote, " as \". */
static void escaped(struct fmt_buf *b, const char *s, size_t n, bool quote)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' || (quote && s[i] == '"')) {
			fmt_char(b, '\\');
			fmt_char(b, s[i]);
		} else if (s[i] == '\n') {
			fmt_str(b, "\\n");
		} else {
			fmt_char(b, s[i]);
		}
	}
}

void hmo_metric_escape(struct fmt_buf *b, const char *s)
{
	escaped(b, s, length(s), true);
}

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool hmo_metric_label_name_ok(const char *s, size_t n)
{
	if (n == 0 || !name_start(s[0]) || (n >= 2 && s[0] == '_' && s[1] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!name_start(s[i]) && !(s[i] >= '0' && s[i] <= '9'))
			return false;
	if (same(s, n, "exe") || same(s, n, "pid"))
		return false;
	for (int m = 0; m < HMO_M_COUNT; m++)
		if (hmo_metric_families[m].label && same(s, n, hmo_metric_families[m].label))
			return false;
	return true;
}

/* Whether the name s[0..n) is among the labels already rendered in text
 * (NAME="...",NAME="..."): each name there follows the start or a ",". */
static bool already(const char *text, size_t len, const char *s, size_t n)
{
	bool in_value = false;

	for (size_t i = 0; i < len; i++) {
		if (in_value) {
			if (text[i] == '\\')
				i++;
			else if (text[i] == '"')
				in_value = false;
			continue;
		}
		if (text[i] == '"') {
			in_value = true;
			continue;
		}
		if ((i == 0 || text[i - 1] == ',') && i + n < len && text[i + n] == '=') {
			size_t k = 0;
			while (k < n && text[i + k] == s[k])
				k++;
			if (k == n)
				return true;
		}
	}
	return false;
}

const char *hmo_metric_parse_labels(const char *s, char *out, size_t cap)
{
	char mem[HMO_METRIC_LABELS_MAX];
	struct fmt_buf b;
	const char *p = s;

	fmt_init(&b, mem, sizeof mem);
	while (*p) {
		const char *name = p, *value;
		size_t n = 0, v = 0;
		while (name[n] && name[n] != '=' && name[n] != ',')
			n++;
		if (name[n] != '=')
			return "not a list of labels (NAME=VALUE,NAME=VALUE)";
		if (!hmo_metric_label_name_ok(name, n)) {
			if (n && name[0] == '_' && n >= 2 && name[1] == '_')
				return "a label name starting with __, which Prometheus keeps for itself";
			for (int m = -2; m < HMO_M_COUNT; m++) {
				const char *own = m == -2 ? "exe" : m == -1 ? "pid" : hmo_metric_families[m].label;
				if (own && same(name, n, own))
					return "a label name hmo sets itself (exe, pid, function, op, outcome, backing, node, kind, direction)";
			}
			return "a label name that is not [a-zA-Z_][a-zA-Z0-9_]*";
		}
		if (already(b.p, b.len, name, n))
			return "a label name given twice";
		value = name + n + 1;
		while (value[v] && value[v] != ',')
			v++;
		if (b.len)
			fmt_char(&b, ',');
		fmt_strn(&b, name, n);
		fmt_str(&b, "=\"");
		escaped(&b, value, v, true);
		fmt_char(&b, '"');
		p = value + v;
		if (*p == ',') {
			p++;
			if (!*p)
				return "not a list of labels (NAME=VALUE,NAME=VALUE): a comma at the end";
		}
	}
	if (b.truncated || b.len + 1 > cap)
		return "too long (at most 500 bytes of labels)";
	for (size_t i = 0; i <= b.len; i++)
		out[i] = b.p[i];
	return NULL;
}

void hmo_metric_common(struct fmt_buf *b, const char *exe, uint64_t pid, const char *user)
{
	fmt_str(b, "exe=\"");
	hmo_metric_escape(b, exe ? exe : "");
	fmt_str(b, "\",pid=\"");
	fmt_u64(b, pid);
	fmt_char(b, '"');
	if (user && *user) {
		fmt_char(b, ',');
		fmt_str(b, user);
	}
}

void hmo_metric_header(struct fmt_buf *b, enum hmo_metric m, bool openmetrics)
{
	const struct hmo_metric_family *f = &hmo_metric_families[m];
	size_t n = length(f->name);

	if (openmetrics && f->type == HMO_METRIC_COUNTER && n > 6 && same(f->name + n - 6, 6, "_total"))
		n -= 6;
	fmt_str(b, "# HELP ");
	fmt_strn(b, f->name, n);
	fmt_char(b, ' ');
	escaped(b, f->help, length(f->help), false);
	fmt_str(b, "\n# TYPE ");
	fmt_strn(b, f->name, n);
	fmt_str(b, f->type == HMO_METRIC_COUNTER ? " counter\n" : " gauge\n");
}

/* NAME{COMMON,LABEL="VALUE"} and the space before the value. */
static void sample_start(struct fmt_buf *b, enum hmo_metric m, const char *common, const char *value)
{
	const struct hmo_metric_family *f = &hmo_metric_families[m];
	bool has_common = common && *common, has_own = f->label && value;

	fmt_str(b, f->name);
	if (has_common || has_own) {
		fmt_char(b, '{');
		if (has_common)
			fmt_str(b, common);
		if (has_own) {
			if (has_common)
				fmt_char(b, ',');
			fmt_str(b, f->label);
			fmt_str(b, "=\"");
			hmo_metric_escape(b, value);
			fmt_char(b, '"');
		}
		fmt_char(b, '}');
	}
	fmt_char(b, ' ');
}

void hmo_metric_sample(struct fmt_buf *b, enum hmo_metric m, const char *common, const char *value,
		       uint64_t v)
{
	sample_start(b, m, common, value);
	fmt_u64(b, v);
	fmt_char(b, '\n');
}

void hmo_metric_sample_seconds(struct fmt_buf *b, enum hmo_metric m, const char *common,
			       const char *value, uint64_t ns)
{
	sample_start(b, m, common, value);
	fmt_u64(b, ns / 1000000000u);
	fmt_char(b, '.');
	/* nine digits, zeros in front */
	char d[9];
	uint64_t r = ns % 1000000000u;
	for (int i = 8; i >= 0; i--, r /= 10)
		d[i] = (char)('0' + r % 10);
	fmt_strn(b, d, 9);
	fmt_char(b, '\n');
}
