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

#endif
