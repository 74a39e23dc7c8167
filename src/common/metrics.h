/* metrics.h: hmo's figures as Prometheus text (the exposition format that
 * node_exporter's textfile collector and a Pushgateway read).
 *
 * One table of families (name, type, help, the one extra label a family may have),
 * and the pieces of text each is written with: a family's "# HELP" and "# TYPE"
 * lines, and one sample with the common labels (exe, pid, the user's
 * HMO_METRICS_LABELS) and the family's own label. libhmo writes them for
 * HMO_METRICS (src/preload/metrics.c); hmo-report can print the same families.
 * Nothing here allocates: libhmo formats into a static buffer (fmt.h). */
#ifndef HMO_COMMON_METRICS_H
#define HMO_COMMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fmt.h"

enum hmo_metric_type { HMO_METRIC_COUNTER, HMO_METRIC_GAUGE };

/* Every family, in the order a file has them. Only ever add: dashboards name them. */
enum hmo_metric {
	HMO_M_RUNNING,
	HMO_M_ELAPSED,
	HMO_M_THRESHOLD,
	HMO_M_CALLS,
	HMO_M_BYTES,
	HMO_M_LARGE_CALLS,
	HMO_M_LARGE_BYTES,
	HMO_M_LARGE_COPY_BYTES,
	HMO_M_LARGE_COPY_TIMED_BYTES,
	HMO_M_LARGE_COPY_SECONDS,
	HMO_M_API_COPIES,
	HMO_M_API_COPY_BYTES,
	HMO_M_API_COPY_SECONDS,
	HMO_M_FRAMES,
	HMO_M_FRAMES_FREED,
	HMO_M_FRAME_BYTES,
	HMO_M_FAULTS_AVOIDED,
	HMO_M_POOL_MAPPED,
	HMO_M_POOL_RESIDENT,
	HMO_M_POOL_LIVE,
	HMO_M_POOL_PEAK,
	HMO_M_POOL_RELEASED,
	HMO_M_PAGE_FAULTS,
	HMO_M_PEAK_RSS,
	HMO_M_CUDA_CALLS,
	HMO_M_CUDA_BYTES,
	HMO_M_CUDA_SECONDS,
	HMO_M_CUDA_ERRORS,
	HMO_M_CUDA_DEVICE_POOL,
	HMO_M_CUDA_PINNED_POOL,
	HMO_M_CUDA_STAGED_BYTES,
	HMO_M_CUDA_DEVICE_CACHED,
	HMO_M_CUDA_DEVICE_PEAK_CACHED,
	HMO_M_CUDA_DEVICE_RELEASED,
	HMO_M_CUDA_PINNED_CACHED,
	HMO_M_CUDA_DEVICE_FREE,
	HMO_M_CUDA_DEVICE_TOTAL,
	HMO_M_COUNT
};

struct hmo_metric_family {
	const char *name;	/* hmo_..., counters ending in _total */
	enum hmo_metric_type type;
	const char *help;	/* one line, the same in every file (node_exporter merges
				   the files of a directory and refuses differing help) */
	const char *label;	/* the family's own label, or NULL */
};
extern const struct hmo_metric_family hmo_metric_families[HMO_M_COUNT];

/* Label values: what the text format escapes (\ " and newline) escaped, the rest
 * copied as it is. */
void hmo_metric_escape(struct fmt_buf *b, const char *s);

/* Whether s[0..n) may be a user's label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting
 * with "__" (Prometheus keeps those), and none of the names hmo sets itself (exe,
 * pid, and each family's own label). */
bool hmo_metric_label_name_ok(const char *s, size_t n);

/* HMO_METRICS_LABELS: "NAME=VALUE,NAME=VALUE" (a value runs to the next comma and
 * may be empty; "" is no labels). On success writes the labels as they appear in a
 * sample, NAME="VALUE",... with the values escaped, NUL-terminated, into out (cap
 * bytes) and returns NULL; otherwise returns the reason and leaves out alone. */
#define HMO_METRIC_LABELS_MAX 512
const char *hmo_metric_parse_labels(const char *s, char *out, size_t cap);

/* The labels every sample of a process has: exe="EXE",pid="PID", then `user` (the
 * output of hmo_metric_parse_labels; NULL or "" for none). */
void hmo_metric_common(struct fmt_buf *b, const char *exe, uint64_t pid, const char *user);

/* The family's "# HELP" and "# TYPE" lines. For OpenMetrics text (openmetrics) a
 * counter's family name is given without its _total, which stays on the samples. */
void hmo_metric_header(struct fmt_buf *b, enum hmo_metric m, bool openmetrics);

/* One sample line: NAME{COMMON,LABEL="VALUE"} V. `common` is hmo_metric_common's
 * text (or "" for none); `value` the family's own label's value, NULL for a family
 * without one. */
void hmo_metric_sample(struct fmt_buf *b, enum hmo_metric m, const char *common, const char *value,
		       uint64_t v);
/* The same, for a time: ns nanoseconds written as seconds, with nine decimals. */
void hmo_metric_sample_seconds(struct fmt_buf *b, enum hmo_metric m, const char *common,
			       const char *value, uint64_t ns);

#endif
