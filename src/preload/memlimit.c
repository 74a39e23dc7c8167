/* memlimit.c: the process's cgroup memory limit, its usage and pressure, and
 * whether the VM gives free memory back to its host, read from the files the kernel
 * gives (see os.h). Apart from os.c so that the unit tests can run it over a tree of
 * their own. Raw system calls: it runs inside hmo's hooks. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/fmt.h"
#include "os.h"

int os_pressure_avg10(const char *path)
{
	char buf[256];
	const char *p;
	int v = 0, frac = 0;

	/* "some avg10=1.23 avg60=..." */
	if (os_read_small(path, buf, sizeof buf) <= 0 || strncmp(buf, "some avg10=", 11) != 0)
		return -1;
	for (p = buf + 11; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	if (*p == '.' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9')
		frac = (p[1] - '0') * 10 + (p[2] - '0');
	return v * 100 + frac;
}

/* False when the path did not fit: then it is not used. */
static bool path_join(char *out, size_t cap, const char *a, const char *b, size_t blen, const char *c)
{
	struct fmt_buf f;

	fmt_init(&f, out, cap);
	fmt_str(&f, a);
	fmt_strn(&f, b, blen);
	fmt_str(&f, c);
	return !f.truncated;
}

/* Walks from the group at `root`+`path` up to `root`, taking the smallest of the
 * limit files; a level whose files cannot be read (not mounted there, or the root
 * group) is passed over. */
static void walk_limits(struct os_memlimit *m, const char *root, const char *path, size_t len, bool v2)
{
	static const char *const v1_files[] = { "/memory.limit_in_bytes", NULL };
	static const char *const v2_files[] = { "/memory.max", "/memory.high", NULL };
	char file[512];

	for (;;) {
		for (const char *const *f = v2 ? v2_files : v1_files; *f; f++) {
			if (!path_join(file, sizeof file, root, path, len, *f))
				continue;
			uint64_t v = os_read_u64(file);
			/* v1 says "no limit" with a huge page-rounded number; 0 is no usable
			 * limit either. */
			if (v == 0 || v >= ((uint64_t)1 << 60) || (m->limit && v >= m->limit))
				continue;
			if (!path_join(m->stat, sizeof m->stat, root, path, len, "/memory.stat"))
				continue;
			m->limit = v;
			m->v2 = v2;
			if (v2)
				(void)path_join(m->pressure, sizeof m->pressure, root, path, len, "/memory.pressure");
		}
		if (len == 0)
			return;
		while (len > 0 && path[len - 1] != '/')
			len--;
		if (len > 0)
			len--;	/* the slash */
	}
}

void os_memory_limit_at(struct os_memlimit *m, const char *proc_cgroup, const char *sysfs)
{
	char buf[4096], v1[256], v2[256], probe[256];
	ssize_t n = os_read_small(proc_cgroup, buf, sizeof buf);
	struct stat st;

	m->limit = 0;
	m->stat[0] = '\0';
	path_join(m->pressure, sizeof m->pressure, "/proc/pressure/memory", "", 0, "");
	if (n <= 0)
		return;
	/* Lines "ID:CONTROLLERS:PATH": v1 names "memory" among its controllers, v2 is
	 * "0::PATH". */
	for (char *line = buf; *line;) {
		char *end = strchr(line, '\n'), *c1 = strchr(line, ':'), *c2;
		if (!end)
			end = line + strlen(line);
		if (c1 && c1 < end && (c2 = strchr(c1 + 1, ':')) != NULL && c2 < end) {
			const char *path = c2 + 1;
			size_t len = (size_t)(end - path);
			if (len == 1 && path[0] == '/')
				len = 0;
			/* Outside the namespace's root ("/../x"): not under the mount. */
			if (len >= 3 && !strncmp(path, "/..", 3))
				len = 0;
			if (c2 == c1 + 1 && line[0] == '0' && c1 == line + 1) {
				/* v2 alone is mounted at the root; beside v1, under unified/. */
				bool unified = path_join(probe, sizeof probe, sysfs, "", 0, "/cgroup.controllers") &&
					       stat(probe, &st) == 0;
				if (path_join(v2, sizeof v2, sysfs, "", 0, unified ? "" : "/unified"))
					walk_limits(m, v2, path, len, true);
			} else {
				for (char *w = c1 + 1; w < c2;) {
					char *comma = memchr(w, ',', (size_t)(c2 - w));
					char *we = comma ? comma : c2;
					if (we - w == 6 && strncmp(w, "memory", 6) == 0 &&
					    path_join(v1, sizeof v1, sysfs, "", 0, "/memory"))
						walk_limits(m, v1, path, len, false);
					w = we + 1;
				}
			}
		}
		line = *end ? end + 1 : end;
	}
}

void os_memory_limit(struct os_memlimit *m)
{
	os_memory_limit_at(m, "/proc/self/cgroup", "/sys/fs/cgroup");
}

uint64_t os_memory_anon(const struct os_memlimit *m)
{
	char buf[8192];
	const char *key = m->v2 ? "anon " : "total_rss ";
	size_t klen = strlen(key);

	if (os_read_small(m->stat, buf, sizeof buf) <= 0)
		return UINT64_MAX;
	for (const char *line = buf; *line;) {
		if (!strncmp(line, key, klen)) {
			uint64_t v = 0;
			for (const char *p = line + klen; *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (uint64_t)(*p - '0');
			return v;
		}
		const char *nl = strchr(line, '\n');
		if (!nl)
			break;
		line = nl + 1;
	}
	return UINT64_MAX;
}

/* The balloon's devices are links named virtioN in its driver directory; each has a
 * "features" file of '0' and '1', bit 0 first. getdents64 rather than opendir: no
 * malloc in here. */
bool os_free_page_reporting(const char *driver_dir)
{
	enum { F_REPORTING = 5 };
	char ents[2048], path[512], feat[160];
	int fd = (int)syscall(SYS_openat, AT_FDCWD, driver_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool on = false;
	long n;

	if (fd < 0)
		return false;
	while (!on && (n = syscall(SYS_getdents64, fd, ents, sizeof ents)) > 0) {
		for (long off = 0; off < n && !on;) {
			/* struct linux_dirent64: ino 8, off 8, reclen 2, type 1, then the name */
			unsigned short reclen;
			memcpy(&reclen, ents + off + 16, sizeof reclen);
			const char *name = ents + off + 19;
			struct fmt_buf b;
			if (reclen == 0)
				break;
			off += reclen;
			if (strncmp(name, "virtio", 6) != 0)
				continue;
			fmt_init(&b, path, sizeof path);
			fmt_str(&b, driver_dir);
			fmt_char(&b, '/');
			fmt_str(&b, name);
			fmt_str(&b, "/features");
			if (!b.truncated && os_read_small(path, feat, sizeof feat) > F_REPORTING)
				on = feat[F_REPORTING] == '1';
		}
	}
	syscall(SYS_close, fd);
	return on;
}
