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
