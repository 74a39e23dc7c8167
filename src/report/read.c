/* read.c: the streaming trace reader (see read.h). */
#include "read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1u << 20)

/* What a path that is not a regular file is, for the line that skips it. */
static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO: return "a FIFO";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	case S_IFDIR: return "a directory";
	default: return "something else";
	}
}

int tr_open(struct tr_reader *r, const char *path)
{
	struct fmt_buf b;
	struct stat st;
	ssize_t n;

	memset(r, 0, sizeof *r);
	r->path = path;
	/* the path as messages show it: a file name can hold anything */
	fmt_init(&b, r->name, sizeof r->name);
	fmt_shown(&b, path, SIZE_MAX, FMT_SHOWN_MAX);
	/* Only regular files: opening a FIFO waits for a writer, reading a device or a
	 * socket may never end. stat first, so that such a file is not even opened;
	 * O_NONBLOCK and fstat, in case it was swapped for one in between. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(r->msg, sizeof r->msg, "%s: %s, not a regular file; skipped", r->name,
			 file_kind(st.st_mode));
		return -1;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (r->fd < 0) {
		snprintf(r->msg, sizeof r->msg, "%s: %s", r->name, strerror(errno));
		return -1;
	}
	if (fstat(r->fd, &st) != 0) {
		snprintf(r->msg, sizeof r->msg, "%s: %s", r->name, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(r->msg, sizeof r->msg, "%s: %s, not a regular file; skipped", r->name,
			 file_kind(st.st_mode));
		goto fail;
	}
	n = read(r->fd, &r->hdr, sizeof r->hdr);
	if (n < 0) {
		snprintf(r->msg, sizeof r->msg, "%s: %s", r->name, strerror(errno));
	} else if (n == 0) {
		snprintf(r->msg, sizeof r->msg, "%s: empty file, not an hmo trace", r->name);
	} else if ((size_t)n < 8 || memcmp(r->hdr.magic, HMO_TRACE_MAGIC, 8) != 0) {
		snprintf(r->msg, sizeof r->msg, "%s: not an hmo trace (no HMOTRACE header)", r->name);
	} else if ((size_t)n < sizeof r->hdr) {
		snprintf(r->msg, sizeof r->msg, "%s: truncated in its header", r->name);
	} else if (r->hdr.version > HMO_TRACE_VERSION) {
		snprintf(r->msg, sizeof r->msg,
			 "%s: trace format version %u is newer than this hmo-report reads (%u)", r->name,
			 r->hdr.version, HMO_TRACE_VERSION);
	} else if (r->hdr.header_size < sizeof r->hdr || r->hdr.header_size > 4096) {
		snprintf(r->msg, sizeof r->msg, "%s: corrupt header (header size %u)", r->name,
			 r->hdr.header_size);
	} else {
		r->offset = r->hdr.header_size;
		if (lseek(r->fd, r->offset, SEEK_SET) == (off_t)r->offset)
			return 0;
		snprintf(r->msg, sizeof r->msg, "%s: %s", r->name, strerror(errno));
	}
fail:
	close(r->fd);
	r->fd = -1;
	return -1;
}

/* Makes at least `need` bytes available from r->pos; false at the end of the file. */
static bool fill(struct tr_reader *r, size_t need)
{
	if (r->len - r->pos >= need)
		return true;
	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	if (need > r->cap) {
		size_t cap = need > CHUNK ? need : CHUNK;
		char *b = realloc(r->buf, cap);
		if (!b)
			return false;
		r->buf = b;
		r->cap = cap;
	}
	while (r->len < need && !r->eof) {
		ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->eof = true;
			break;
		}
		r->len += (size_t)n;
	}
	return r->len - r->pos >= need;
}

int tr_next(struct tr_reader *r, unsigned *type, const void **payload, uint32_t *size)
{
	struct hmo_rec h;
	size_t padded;

	if (r->fd < 0)
		return 0;
	if (!fill(r, sizeof h)) {
		if (r->len == r->pos)
			return 0;
		snprintf(r->msg, sizeof r->msg,
			 "%s: truncated at byte %llu (a torn last record: the process was killed or its disk filled)",
			 r->name, (unsigned long long)r->offset);
		return -1;
	}
	memcpy(&h, r->buf + r->pos, sizeof h);
	if (h.type == 0 || h.size > HMO_REC_MAX) {
		snprintf(r->msg, sizeof r->msg, "%s: corrupt record at byte %llu (type %u, size %u); read up to there",
			 r->name, (unsigned long long)r->offset, h.type, h.size);
		return -1;
	}
	padded = sizeof h + (((size_t)h.size + 7) & ~(size_t)7);
	if (!fill(r, padded)) {
		snprintf(r->msg, sizeof r->msg,
			 "%s: truncated at byte %llu (a torn last record: the process was killed or its disk filled)",
			 r->name, (unsigned long long)r->offset);
		return -1;
	}
	*type = h.type;
	*payload = r->buf + r->pos + sizeof h;
	*size = h.size;
	r->pos += padded;
	r->offset += padded;
	r->records++;
	return 1;
}

void tr_get(void *out, size_t want, const void *payload, uint32_t size)
{
	memset(out, 0, want);
	memcpy(out, payload, size < want ? size : want);
}

void tr_close(struct tr_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	r->fd = -1;
	r->buf = NULL;
}

/* ---- the decoder ---------------------------------------------------------------- */

/* The time at the start of the records that have one; 0 for the others, and for a
 * record too short to hold one. */
static bool timed(unsigned type, uint32_t size, const void *pl, uint64_t *t)
{
	switch (type) {
	case HMO_REC_EVENT: case HMO_REC_COPY: case HMO_REC_SAMPLE: case HMO_REC_END:
	case HMO_REC_CUDA: case HMO_REC_POOL:
		*t = 0;
		if (size >= 8)
			memcpy(t, pl, 8);
		return true;
	default:
		return false;
	}
}

/* The records with a tail: what the tail holds must fit in the record. */
static void process(const struct tr_visitor *v, void *ctx, const void *pl, uint32_t size)
{
	struct hmo_rec_process r;
	const char *s = (const char *)pl + sizeof r;
	uint64_t avail = size > sizeof r ? size - sizeof r : 0;

	tr_get(&r, sizeof r, pl, size);
	if ((uint64_t)r.exe_len + r.cmdline_len + r.options_len <= avail)
		v->process(ctx, &r, s, s + r.exe_len, s + r.exe_len + r.cmdline_len);
}

static void module(const struct tr_visitor *v, void *ctx, const void *pl, uint32_t size)
{
	struct hmo_rec_module r;

	tr_get(&r, sizeof r, pl, size);
	if (size >= sizeof r && r.path_len <= size - sizeof r)
		v->module(ctx, &r, (const char *)pl + sizeof r);
}

static void stack(const struct tr_visitor *v, void *ctx, const void *pl, uint32_t size)
{
	struct hmo_rec_stack r;

	tr_get(&r, sizeof r, pl, size);
	if (size >= sizeof r && (uint64_t)r.depth * 8 <= size - sizeof r)
		v->stack(ctx, &r, (const char *)pl + sizeof r);
}

static void counters(const struct tr_visitor *v, void *ctx, const void *pl, uint32_t size)
{
	struct hmo_rec_counters c;

	tr_get(&c, sizeof c, pl, size);
	if (size >= sizeof c && (uint64_t)c.nfn * sizeof(struct hmo_rec_fn) <= size - sizeof c)
		v->counters(ctx, &c, (const char *)pl + sizeof c);
}

static void kernel(const struct tr_visitor *v, void *ctx, const void *pl, uint32_t size)
{
	struct hmo_rec_gpu_kernel k;

	tr_get(&k, sizeof k, pl, size);
	uint32_t n = size > sizeof k && k.name_len <= size - sizeof k ? k.name_len : 0;
	v->gpu_kernel(ctx, &k, (const char *)pl + sizeof k, n);
}

/* A record that is its struct alone: copied out and handed to its callback. */
#define FIXED(cb, type)                                   \
	do {                                              \
		struct type x_;                           \
		tr_get(&x_, sizeof x_, pl, size);         \
		v->cb(ctx, &x_);                          \
	} while (0)

static void dispatch(const struct tr_visitor *v, void *ctx, unsigned type, const void *pl, uint32_t size)
{
	switch (type) {
	case HMO_REC_PROCESS: if (v->process) process(v, ctx, pl, size); break;
	case HMO_REC_MODULE: if (v->module) module(v, ctx, pl, size); break;
	case HMO_REC_STACK: if (v->stack) stack(v, ctx, pl, size); break;
	case HMO_REC_COUNTERS: if (v->counters) counters(v, ctx, pl, size); break;
	case HMO_REC_GPU_KERNEL: if (v->gpu_kernel) kernel(v, ctx, pl, size); break;
	case HMO_REC_EVENT: if (v->event) FIXED(event, hmo_rec_event); break;
	case HMO_REC_COPY: if (v->copy) FIXED(copy, hmo_rec_copy); break;
	case HMO_REC_SAMPLE: if (v->sample) FIXED(sample, hmo_rec_sample); break;
	case HMO_REC_END: if (v->end) FIXED(end, hmo_rec_end); break;
	case HMO_REC_CUDA: if (v->cuda) FIXED(cuda, hmo_rec_cuda); break;
	case HMO_REC_GPU_COPY: if (v->gpu_copy) FIXED(gpu_copy, hmo_rec_gpu_copy); break;
	case HMO_REC_GPU_MEMSET: if (v->gpu_memset) FIXED(gpu_memset, hmo_rec_gpu_memset); break;
	case HMO_REC_GPU_MEMORY: if (v->gpu_memory) FIXED(gpu_memory, hmo_rec_gpu_memory); break;
	case HMO_REC_GPU_API: if (v->gpu_api) FIXED(gpu_api, hmo_rec_gpu_api); break;
	case HMO_REC_GPU_INFO: if (v->gpu_info) FIXED(gpu_info, hmo_rec_gpu_info); break;
	case HMO_REC_POOL: if (v->pool) FIXED(pool, hmo_rec_pool); break;
	default: break;	/* a newer writer's record */
	}
}

int tr_walk(struct tr_reader *r, const struct tr_visitor *v, void *ctx)
{
	unsigned type;
	const void *pl;
	uint32_t size;
	uint64_t t;
	int rc;

	while ((rc = tr_next(r, &type, &pl, &size)) == 1) {
		if (v->time && timed(type, size, pl, &t))
			v->time(ctx, t);
		dispatch(v, ctx, type, pl, size);
	}
	return rc;
}
