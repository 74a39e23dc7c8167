/* read.h: the streaming trace reader.
 *
 * A reader holds one file open and a buffer that grows only to the largest record
 * it has met (HMO_REC_MAX at most): reading a trace takes the same memory whatever
 * its length. tr_next hands out one record at a time, with a payload that stays
 * valid until the next call. Known records are copied into zeroed structs with
 * tr_get, so a shorter record (an older writer) reads as zeros at the end and a
 * longer one (a newer writer) is cut to what this reader knows. */
#ifndef HMO_REPORT_READ_H
#define HMO_REPORT_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fmt.h"
#include "common/trace.h"

struct tr_reader {
	int fd;
	const char *path;
	struct hmo_trace_header hdr;
	uint64_t offset;	/* of the next record in the file */
	char *buf;
	size_t cap, len, pos;	/* bytes in buf, and where the next record starts */
	bool eof;
	uint64_t records;
	char name[FMT_SHOWN_MAX + 8];	/* the path, escaped and cut, for messages */
	char msg[400];		/* why reading stopped early, or why open failed */
};

/* Opens a trace and checks its header. 0, or -1 with r->msg saying why (no such
 * file, not a trace, a newer version, empty). */
int tr_open(struct tr_reader *r, const char *path);

/* The next record: 1 with *type, *payload and *size set; 0 at a clean end; -1 when
 * the rest cannot be read (a torn or corrupt record, a read error), with r->msg
 * saying where and why. */
int tr_next(struct tr_reader *r, unsigned *type, const void **payload, uint32_t *size);

/* Copies a payload into a zeroed struct of `want` bytes: what the record has of it. */
void tr_get(void *out, size_t want, const void *payload, uint32_t size);

void tr_close(struct tr_reader *r);

/* The one decoder of records, for every consumer (the model, the Perfetto export).
 * Each known record is copied into its struct; a record whose strings or arrays
 * would run past its end is dropped here, so that no consumer reads past a payload.
 * A NULL callback skips its records; a record of a newer writer's type is skipped.
 * CTX is handed to every callback as it is. */
struct tr_visitor {
	/* First, for each record whose first 8 bytes are a time (event, copy, sample,
	 * end, cuda, pool): that time. */
	void (*time)(void *ctx, uint64_t t);
	/* exe, cmdline (arguments separated by NULs) and options, of the lengths in r */
	void (*process)(void *ctx, const struct hmo_rec_process *r, const char *exe, const char *cmdline,
			const char *options);
	void (*module)(void *ctx, const struct hmo_rec_module *r, const char *path);
	/* r->depth return addresses at pcs, not necessarily aligned */
	void (*stack)(void *ctx, const struct hmo_rec_stack *r, const void *pcs);
	void (*event)(void *ctx, const struct hmo_rec_event *e);
	void (*copy)(void *ctx, const struct hmo_rec_copy *c);
	void (*sample)(void *ctx, const struct hmo_rec_sample *s);
	/* c->nfn struct hmo_rec_fn at fns, not necessarily aligned */
	void (*counters)(void *ctx, const struct hmo_rec_counters *c, const void *fns);
	void (*end)(void *ctx, const struct hmo_rec_end *e);
	void (*cuda)(void *ctx, const struct hmo_rec_cuda *c);
	void (*gpu_copy)(void *ctx, const struct hmo_rec_gpu_copy *c);
	void (*gpu_memset)(void *ctx, const struct hmo_rec_gpu_memset *s);
	/* the name is NAME_LEN bytes, not NUL-terminated; 0 when the record has none */
	void (*gpu_kernel)(void *ctx, const struct hmo_rec_gpu_kernel *k, const char *name, uint32_t name_len);
	void (*gpu_memory)(void *ctx, const struct hmo_rec_gpu_memory *a);
	void (*gpu_api)(void *ctx, const struct hmo_rec_gpu_api *a);
	void (*gpu_info)(void *ctx, const struct hmo_rec_gpu_info *i);
	void (*pool)(void *ctx, const struct hmo_rec_pool *p);
};

/* Reads the rest of an open trace through V. 0 at a clean end; -1 when the rest
 * could not be read, with r->msg saying why (tr_next). */
int tr_walk(struct tr_reader *r, const struct tr_visitor *v, void *ctx);

#endif
