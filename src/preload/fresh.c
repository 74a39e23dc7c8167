/* fresh.c: first-touch rates by backing, once per boot. See fresh.h.
 *
 * Raw system calls and no malloc: it runs inside the pool's start, under hmo's
 * guard, and in the unit tests as it is. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../common/fmt.h"
#include "../common/options.h"
#include "../common/trace.h"
#include "fresh.h"
#include "os.h"

#define PROBE ((size_t)4 << 20)
#define HUGE ((size_t)2 << 20)

/* MB/s of the first write to each page of a fresh, huge-page-aligned PROBE bytes,
 * advised `advice`; 0 when it could not be measured. */
static uint32_t touch_rate(int advice)
{
	char *base = os_raw_mmap(NULL, PROBE + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;
	uint64_t t0, ns;

	if (base == MAP_FAILED)
		return 0;
	p = (char *)(((uintptr_t)base + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
	if (syscall(SYS_madvise, p, PROBE, advice) != 0) {
		os_raw_munmap(base, PROBE + HUGE);
		return 0;
	}
	t0 = os_now_ns();
	for (size_t off = 0; off < PROBE; off += 4096)
		((volatile char *)p)[off] = 1;
	ns = os_now_ns() - t0;
	os_raw_munmap(base, PROBE + HUGE);
	if (!ns)
		ns = 1;
	uint64_t mbps = (uint64_t)PROBE * 1000 / ns;	/* bytes per ns = GB/s; x1000: MB/s */
	return mbps > UINT32_MAX ? UINT32_MAX : (uint32_t)(mbps ? mbps : 1);
}

bool fresh_probe(struct fresh_rates *r, bool reporting)
{
	r->reporting = reporting;
	r->small_mbps = touch_rate(MADV_NOHUGEPAGE);
	r->thp_mbps = reporting ? 0 : touch_rate(MADV_HUGEPAGE);
	return r->small_mbps != 0;
}

bool fresh_prefers_thp(const struct fresh_rates *r)
{
	return !r->reporting && r->thp_mbps && (uint64_t)r->thp_mbps * 5 >= (uint64_t)r->small_mbps * 4;
}

struct fresh_choice fresh_choose(unsigned mode, const struct fresh_system *sys, const struct fresh_rates *r)
{
	struct fresh_choice c = { 0, sys->thp, HMO_WHY_FORCED };

	switch (mode) {
	case HMO_HP_OFF:
		c.thp = false;
		return c;
	case HMO_HP_HUGETLB:
	case HMO_HP_1G:
	case HMO_HP_THP:
		if (mode != HMO_HP_THP)
			c.hugetlb_page = mode == HMO_HP_1G ? (size_t)1 << 30 : (size_t)2 << 20;
		if (!sys->thp)
			c.why = HMO_WHY_NO_THP;	/* beyond hugetlb pages, 4 KiB ones */
		return c;
	default:
		break;
	}
	if (sys->hugetlb_2m)
		c.hugetlb_page = (size_t)2 << 20;
	if (!sys->thp)
		c.why = HMO_WHY_NO_THP;
	else if (sys->limited)
		c.thp = false, c.why = HMO_WHY_LIMITED;
	else if (!r)
		c.why = HMO_WHY_UNMEASURED;
	else if (r->reporting)
		c.thp = false, c.why = HMO_WHY_REPORTING;
	else
		c.thp = fresh_prefers_thp(r), c.why = c.thp ? HMO_WHY_THP_CHEAP : HMO_WHY_THP_COSTLY;
	return c;
}

/* ---- the boot's record --------------------------------------------------- */

static bool parse_u32(const char **s, uint32_t *out)
{
	uint64_t v = 0;
	const char *p = *s;

	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t)(*p++ - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	*s = p;
	return true;
}

bool fresh_load(const char *path, const char *boot_id, struct fresh_rates *r)
{
	char buf[160];
	struct stat st;
	size_t idlen = strlen(boot_id);
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	ssize_t n;
	const char *p;
	struct fresh_rates got;

	if (fd < 0)
		return false;
	/* Ours alone: a record someone else could have written is not believed. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		syscall(SYS_close, fd);
		return false;
	}
	n = (ssize_t)syscall(SYS_read, fd, buf, sizeof buf - 1);
	syscall(SYS_close, fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = buf;
	if (strncmp(p, "hmo-fresh 2 ", 12) != 0)
		return false;
	p += 12;
	if (idlen == 0 || strncmp(p, boot_id, idlen) != 0 || p[idlen] != ' ')
		return false;
	p += idlen + 1;
	uint32_t reporting;
	if (!parse_u32(&p, &got.thp_mbps) || *p++ != ' ' || !parse_u32(&p, &got.small_mbps) || *p++ != ' ' ||
	    !parse_u32(&p, &reporting) || reporting > 1 || *p != '\n' || p[1] != '\0' || got.small_mbps == 0)
		return false;
	got.reporting = reporting;
	*r = got;
	return true;
}

void fresh_store(const char *path, const char *boot_id, const struct fresh_rates *r)
{
	char tmp[320], line[160];
	struct fmt_buf b;
	int fd;

	fmt_init(&b, tmp, sizeof tmp);
	fmt_str(&b, path);
	fmt_str(&b, ".");
	fmt_u64(&b, (uint64_t)getpid());
	fmt_str(&b, ".tmp");
	if (b.truncated)
		return;
	fmt_init(&b, line, sizeof line);
	fmt_str(&b, "hmo-fresh 2 ");
	fmt_str(&b, boot_id);
	fmt_char(&b, ' ');
	fmt_u64(&b, r->thp_mbps);
	fmt_char(&b, ' ');
	fmt_u64(&b, r->small_mbps);
	fmt_char(&b, ' ');
	fmt_u64(&b, r->reporting);
	fmt_char(&b, '\n');
	if (b.truncated)
		return;
	fd = (int)syscall(SYS_openat, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	bool ok = syscall(SYS_write, fd, line, b.len) == (long)b.len;
	syscall(SYS_close, fd);
	/* rename replaces whatever record was there in one step; in a sticky directory
	 * it cannot replace another user's file, which is then left alone. */
	if (!ok || syscall(SYS_rename, tmp, path) != 0)
		syscall(SYS_unlink, tmp);
}

/* ---- where the record lives -------------------------------------------- */

static bool boot_id(char out[64])
{
	ssize_t n = os_read_small("/proc/sys/kernel/random/boot_id", out, 64);

	if (n <= 0)
		return false;
	for (ssize_t i = 0; i < n; i++) {
		char c = out[i];
		if (c == '\n') {
			out[i] = '\0';
			break;
		}
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-'))
			return false;
	}
	return out[0] != '\0';
}

static bool record_path(char *out, size_t cap)
{
	const char *dir = secure_getenv("XDG_RUNTIME_DIR");
	struct fmt_buf b;
	struct stat st;

	fmt_init(&b, out, cap);
	if (dir && dir[0] == '/' && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid()) {
		fmt_str(&b, dir);
		fmt_str(&b, "/hmo-fresh");
	} else {
		fmt_str(&b, "/tmp/hmo-fresh-");
		fmt_u64(&b, (uint64_t)geteuid());
	}
	return !b.truncated;
}

bool fresh_rates_for_boot(struct fresh_rates *r, bool *measured)
{
	char id[64], path[256];
	bool keep = !getauxval(AT_SECURE) && boot_id(id) && record_path(path, sizeof path);

	*measured = false;
	if (keep && fresh_load(path, id, r))
		return true;
	if (!fresh_probe(r, os_free_page_reporting(OS_BALLOON_DIR)))
		return false;
	*measured = true;
	if (keep)
		fresh_store(path, id, r);
	return true;
}
