/* options: the one table of HMO_* variables, and their parsers.
 *
 * Every number a user can set lives here: the row gives its name, type, default and
 * one line of help. libhmo reads the table once, early, with secure_getenv; the same
 * table prints the README's listing (and later hmo-run --help and hmo(7)).
 *
 * The parsers are pure functions: they return NULL on success, or a short reason
 * ("not a size ...") that the caller puts into its one-line warning. */
#ifndef HMO_OPTIONS_H
#define HMO_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HMO_PATH_MAX 1024
/* HMO_METRICS_LABELS as its samples have them (metrics.h) */
#define HMO_LABELS_MAX 512

enum hmo_opt_type {
	HMO_OPT_BOOL,   /* 1/0, on/off, yes/no, true/false */
	HMO_OPT_SIZE,   /* bytes, with an optional K/M/G/T suffix (powers of 1024) */
	HMO_OPT_OUTPUT, /* off, 1 for stderr, or a file path pattern (%p %e %t %%) */
	HMO_OPT_ENUM,   /* one of the row's choices; stored as its index */
	HMO_OPT_MS,     /* a duration: ms (the default unit), s or m; "never" is -1 */
	HMO_OPT_SIZE_RAM, /* a size, or a percentage of hmo_options_ram: 2G, 25% */
	HMO_OPT_NUMA,   /* local, node:N, interleave[:LIST], preferred:N or gpu */
	HMO_OPT_UINT,   /* a whole number from the row's min to max */
	HMO_OPT_PATH,   /* off, or a file path pattern (%p %e %t %%); no stderr */
	HMO_OPT_LABELS, /* Prometheus labels: NAME=VALUE,NAME=VALUE, or none */
};

enum hmo_numa_mode { HMO_NUMA_LOCAL, HMO_NUMA_NODE, HMO_NUMA_INTERLEAVE, HMO_NUMA_PREFERRED,
		     HMO_NUMA_GPU };

/* HMO_NUMA: the mode and its nodes (a mask of node numbers 0-63; for interleave,
 * 0 means every node). */
struct hmo_numa {
	enum hmo_numa_mode mode;
	uint64_t nodes;
};

/* HMO_HUGEPAGES choices, in the order of the row's list. */
enum hmo_hugepages { HMO_HP_AUTO, HMO_HP_HUGETLB, HMO_HP_1G, HMO_HP_THP, HMO_HP_OFF };
/* HMO_MMAP choices. */
enum hmo_mmap_mode { HMO_MMAP_ADVISE, HMO_MMAP_OFF };

/* HMO_PIN choices. */
enum hmo_pin { HMO_PIN_AUTO, HMO_PIN_STAGING, HMO_PIN_OFF };

enum hmo_dest_kind { HMO_DEST_OFF, HMO_DEST_STDERR, HMO_DEST_FILE };

struct hmo_output {
	enum hmo_dest_kind kind;
	char path[HMO_PATH_MAX]; /* the pattern, for HMO_DEST_FILE */
};

/* Parsed values, one field per row of the table. */
struct hmo_options {
	struct hmo_output stats;
	bool stats_hist;
	uint64_t threshold;
	bool pool;
	unsigned hugepages;	/* enum hmo_hugepages */
	uint64_t pool_max;
	int64_t pool_decay_ms;
	bool prefault;
	unsigned mmap_mode;	/* enum hmo_mmap_mode */
	struct hmo_numa numa;
	struct hmo_output trace;
	uint64_t trace_copy_min;
	uint64_t backtrace;
	uint64_t sample;
	int64_t interval_ms;
	bool cuda_pool;
	uint64_t cuda_pool_max;
	uint64_t cuda_host_pool_max;
	unsigned pin;		/* enum hmo_pin */
	bool cupti;
	uint64_t copy_threads;
	uint64_t staging_chunk;
	uint64_t staging_slots;
	struct hmo_output metrics;	/* HMO_DEST_OFF or HMO_DEST_FILE */
	/* NAME="VALUE",... with the values escaped: hmo_metric_parse_labels's text */
	char metrics_labels[HMO_LABELS_MAX];
};

struct hmo_option_desc {
	const char *name;
	enum hmo_opt_type type;
	const char *def;      /* default, in the syntax a user would write */
	uint64_t min, max;    /* accepted range, for sizes */
	size_t offset;        /* field in struct hmo_options */
	const char *help;
	const char *const *choices; /* for enums: NULL-terminated */
};

extern const struct hmo_option_desc hmo_option_table[];
extern const size_t hmo_option_count;

const char *hmo_parse_bool(const char *s, bool *out);
const char *hmo_parse_size(const char *s, uint64_t *out);
/* A plain whole number, no suffix. */
const char *hmo_parse_uint(const char *s, uint64_t *out);
const char *hmo_parse_output(const char *s, struct hmo_output *out);
/* As hmo_parse_output, but 1 and stderr are refused: off or a path. */
const char *hmo_parse_path(const char *s, struct hmo_output *out);
/* "none" or "" (no labels), or labels as hmo_metric_parse_labels takes them;
 * out has HMO_LABELS_MAX bytes. */
const char *hmo_parse_labels(const char *s, char *out);
/* Index of `s` in the NULL-terminated `choices` (case-insensitive). */
const char *hmo_parse_enum(const char *s, const char *const *choices, unsigned *out);
/* Milliseconds: "250", "250ms", "10s", "2m"; "never" gives -1. */
const char *hmo_parse_ms(const char *s, int64_t *out);
/* A size (as hmo_parse_size) or "N%" of `ram` bytes, N from 1 to 100. */
const char *hmo_parse_size_ram(const char *s, uint64_t ram, uint64_t *out);
/* "local", "node:N", "preferred:N", "interleave", "interleave:0-3,6" or "gpu";
 * node numbers from 0 to 63. */
const char *hmo_parse_numa(const char *s, struct hmo_numa *out);

/* What a type is called in warnings and in the listing ("size", "boolean", ...). */
const char *hmo_opt_type_name(enum hmo_opt_type t);

/* Sets every field of `o` to its default. */
void hmo_options_defaults(struct hmo_options *o);

/* Physical memory that percentages of HMO_*_MAX refer to; set before loading (libhmo
 * reads it from sysconf, tests set what they need). */
extern uint64_t hmo_options_ram;

/* Reads every row through `get` (secure_getenv in libhmo). A value that does not
 * parse or is out of range gives one line to `warn` (without a newline; the value
 * escaped and cut, see fmt_shown) and the default. Returns the number of warnings.
 * Uses no malloc. */
int hmo_options_load(struct hmo_options *o, const char *(*get)(const char *name),
		     void (*warn)(const char *line));

/* Warns once for each HMO_* variable in `envp` that no row names: a misspelt
 * variable must not be silently ignored. `secure` (AT_SECURE: a set-user-ID,
 * set-group-ID or capability-raising program) is where no HMO_* variable is read at
 * all: one warning then says how many were there, and no name is echoed. Every name
 * echoed is escaped and cut (fmt_shown). Returns the number of warnings. */
int hmo_options_check_unknown(char *const *envp, bool secure, void (*warn)(const char *line));

#endif
