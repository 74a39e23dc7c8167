/* tracer.c: the trace writer (HMO_TRACE), in the format of src/common/trace.h.
 *
 * Each slot (one per live thread, counters.c) gets a buffer the first time its thread
 * records something; records are appended under the buffer's lock, which only its
 * thread takes on the hot path, and the buffer goes to the file with one write(2)
 * when it is full, when its thread exits, every HMO_INTERVAL (the sampler thread
 * flushes them all) and at exit. No malloc and no stdio: the buffers are mapped
 * with mmap, the lines formatted with fmt.h.
 *
 * Call stacks come from libunwind's unw_backtrace with a per-thread cache; hmo's
 * own frames are dropped; a stack is interned by the hash of its addresses in one
 * table shared by all threads (a CAS per new stack, a load per known one), and a
 * small per-buffer cache saves even that. The loaded objects are listed at start
 * and after every dlopen, so hmo-report can symbolize offline.
 *
 * Whatever fails (the file cannot be created, the disk is full) gives one hmo: line
 * and the program goes on untraced. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "../common/hist.h"
#include "arch.h"
#include "../common/path.h"
#include "../common/fmt.h"
#include "tracer.h"
#include "base.h"
#include "counters.h"
#include "os.h"
#include "process.h"
#include "pool.h"

#define TBUF_DATA (64 * 1024 - 64 * 16 - 64)
#define CACHE 64
#define MAX_DEPTH 64
#define SKIP_MAX 8
#define STACK_TABLE (1u << 16)

struct hmo_tbuf {
	int lock;
	uint32_t len;
	uint32_t nrec;		/* records in data, for the dropped count */
	struct hmo_tbuf *next;	/* every buffer, for flushing them all */
	struct { uint64_t hash; uint32_t id, pad; } cache[CACHE];
	char data[TBUF_DATA];
};

uint64_t hmo_trace_copy_min = UINT64_MAX;
bool hmo_tracing;
static uint64_t clock_cost;	/* ns that reading the clock twice adds to a timed call */

uint64_t hmo_copy_timed_min = UINT64_MAX;

void hmo_copy_timing(void)
{
	uint64_t t = hmo_trace_copy_min < hmo_large_threshold ? hmo_trace_copy_min : hmo_large_threshold;
	__atomic_store_n(&hmo_copy_timed_min, t, __ATOMIC_RELAXED);
}

static int trace_fd = -1;
static int finished;
static uint64_t dropped;
static int depth;
static uintptr_t self_lo, self_hi;	/* libhmo's own code: frames there are dropped */
static struct hmo_tbuf *all;		/* every buffer */
static struct hmo_tbuf spare;		/* threads without a slot, and process-wide records */
static struct hmo_tbuf sampler_buf;
static struct { uint64_t hash; uint32_t id, pad; } *stacks;
static uint32_t next_stack;
static uint32_t module_gen;
static pid_t sampler_pid;
/* In a forked child: the module map is written at its first traced event, not from
 * the fork handler (dl_iterate_phdr there could wait on a loader lock that another
 * thread of the parent held when it forked). */
static bool modules_due;

static void modules_if_due(void)
{
	if (HMO_UNLIKELY(__atomic_load_n(&modules_due, __ATOMIC_RELAXED)) &&
	    __atomic_exchange_n(&modules_due, false, __ATOMIC_ACQ_REL))
		hmo_trace_modules();
}
static __thread pid_t my_tid __attribute__((tls_model("initial-exec")));

static pid_t tid(void)
{
	if (!my_tid)
		my_tid = gettid();
	return my_tid;
}

/* ---- buffers and the file ----------------------------------------------- */

static void lock(struct hmo_tbuf *b)
{
	while (__atomic_exchange_n(&b->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&b->lock, __ATOMIC_RELAXED))
			arch_cpu_relax();
}

static bool trylock(struct hmo_tbuf *b)
{
	return !__atomic_exchange_n(&b->lock, 1, __ATOMIC_ACQUIRE);
}

static void unlock(struct hmo_tbuf *b)
{
	__atomic_store_n(&b->lock, 0, __ATOMIC_RELEASE);
}

static void register_buf(struct hmo_tbuf *b)
{
	b->next = __atomic_load_n(&all, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&all, &b->next, b, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

/* Stops tracing after a failed write: one line, and the program goes on. */
static void give_up(int err)
{
	char line[256];
	struct fmt_buf w;
	int fd = __atomic_exchange_n(&trace_fd, -1, __ATOMIC_ACQ_REL);

	hmo_tracing = false;
	hmo_trace_copy_min = UINT64_MAX;
	hmo_copy_timing();
	if (fd < 0)
		return;
	close(fd);
	fmt_init(&w, line, sizeof line);
	fmt_str(&w, "hmo: writing the trace failed (");
	fmt_errno(&w, err);
	fmt_str(&w, "); tracing stops, the program goes on");
	os_warn(w.p);
}

/* Writes out a locked buffer. */
static void flush_locked(struct hmo_tbuf *b)
{
	int fd = __atomic_load_n(&trace_fd, __ATOMIC_ACQUIRE);
	int err = fd < 0 ? EBADF : os_write_all(fd, b->data, b->len);

	if (err && fd >= 0)
		give_up(err);
	if (err && b->len)
		__atomic_fetch_add(&dropped, b->nrec, __ATOMIC_RELAXED);
	b->len = 0;
	b->nrec = 0;
}

/* Appends one record (header, `a`, then `b`, padded to 8) to a locked buffer. */
static void put(struct hmo_tbuf *buf, uint16_t type, const void *a, uint32_t alen, const void *b,
		uint32_t blen)
{
	struct hmo_rec h = { type, 0, alen + blen };
	uint32_t total = (uint32_t)sizeof h + ((alen + blen + 7) & ~7u);

	if (total > TBUF_DATA)
		return;
	if (buf->len + total > TBUF_DATA)
		flush_locked(buf);
	char *p = buf->data + buf->len;
	os_memmove(p, &h, sizeof h);
	os_memmove(p + sizeof h, a, alen);
	if (blen)
		os_memmove(p + sizeof h + alen, b, blen);
	os_memset(p + sizeof h + alen + blen, 0, total - sizeof h - alen - blen);
	buf->len += total;
	buf->nrec++;
}

/* The calling thread's buffer, mapped on first use; the spare one for a thread
 * without a slot. Returned locked. */
static struct hmo_tbuf *my_buf(void)
{
	struct hmo_slot *s = hmo_tls.guard ? hmo_tls.saved : hmo_tls.slot;
	struct hmo_tbuf *b = s ? s->tb : NULL;

	if (s && !b) {
		b = os_raw_mmap(NULL, sizeof *b, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b == MAP_FAILED) {
			b = NULL;
		} else {
			register_buf(b);
			s->tb = b;
		}
	}
	if (!b)
		b = &spare;
	lock(b);
	return b;
}

static void flush_all(bool try_only)
{
	for (struct hmo_tbuf *b = __atomic_load_n(&all, __ATOMIC_ACQUIRE); b; b = b->next) {
		if (try_only ? !trylock(b) : (lock(b), false))
			continue;
		flush_locked(b);
		unlock(b);
	}
}

static void start_sampler(void);

/* ---- call stacks ---------------------------------------------------------- */

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t me = (uintptr_t)arg, lo = UINTPTR_MAX, hi = 0;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;
		if (a < lo)
			lo = a;
		if (a + ph->p_memsz > hi)
			hi = a + ph->p_memsz;
	}
	if (me >= lo && me < hi) {
		self_lo = lo;
		self_hi = hi;
		return 1;
	}
	return 0;
}

/* The id of the calling stack, interned; 0 when stacks are off or none was found.
 * A new stack's record goes into `buf` (locked), ahead of the event that names it. */
static uint32_t stack_id(void **ips, int n, struct hmo_tbuf *buf)
{
	uint64_t h = 1469598103934665603u;
	int i = 0;

	while (i < n && (uintptr_t)ips[i] - self_lo < self_hi - self_lo)
		i++;
	n -= i;
	if (n > depth)
		n = depth;
	if (n <= 0 || !stacks)
		return 0;
	for (int k = 0; k < n; k++)
		h = (h ^ (uint64_t)(uintptr_t)ips[i + k]) * 1099511628211u;
	h |= 1;	/* 0 marks an empty entry */
	unsigned c = (unsigned)(h >> 7) % CACHE;
	if (buf->cache[c].hash == h)
		return buf->cache[c].id;
	for (uint32_t j = 0; j < STACK_TABLE; j++) {
		uint32_t e = (uint32_t)(h + j) & (STACK_TABLE - 1);
		uint64_t cur = __atomic_load_n(&stacks[e].hash, __ATOMIC_ACQUIRE);
		uint32_t id;
		if (cur == 0) {
			if (!__atomic_compare_exchange_n(&stacks[e].hash, &cur, h, false, __ATOMIC_ACQ_REL,
							 __ATOMIC_ACQUIRE)) {
				if (cur != h)
					continue;
			} else {
				id = __atomic_add_fetch(&next_stack, 1, __ATOMIC_RELAXED);
				struct hmo_rec_stack r = { id, (uint32_t)n };
				uint64_t pcs[MAX_DEPTH];
				for (int k = 0; k < n; k++)
					pcs[k] = (uint64_t)(uintptr_t)ips[i + k];
				put(buf, HMO_REC_STACK, &r, sizeof r, pcs, (uint32_t)(n * 8));
				__atomic_store_n(&stacks[e].id, id, __ATOMIC_RELEASE);
				buf->cache[c].hash = h;
				buf->cache[c].id = id;
				return id;
			}
		}
		if (cur != h)
			continue;
		/* Someone else is interning this one: its id appears at once. */
		while ((id = __atomic_load_n(&stacks[e].id, __ATOMIC_ACQUIRE)) == 0)
			arch_cpu_relax();
		buf->cache[c].hash = h;
		buf->cache[c].id = id;
		return id;
	}
	return 0;	/* the table is full: the event goes without a stack */
}

static int capture(void **ips)
{
	return depth ? unw_backtrace(ips, depth + SKIP_MAX) : 0;
}

/* ---- records -------------------------------------------------------------- */

/* Appends rec (len bytes) after filling its stack field, at stack_off, with the
 * caller's interned call stack. The record types differ only in their fields; the
 * work around them (the guard, the sampler, the stack, the buffer) is this. */
static void put_with_stack(uint16_t type, void *rec, uint32_t len, size_t stack_off)
{
	void *ips[MAX_DEPTH + SKIP_MAX];
	int saved_errno = errno;

	modules_if_due();
	hmo_guard_enter();
	if (HMO_UNLIKELY(__atomic_load_n(&sampler_pid, __ATOMIC_RELAXED) != hmo_pid))
		start_sampler();
	int n = capture(ips);
	struct hmo_tbuf *b = my_buf();
	*(uint32_t *)((char *)rec + stack_off) = stack_id(ips, n, b);
	put(b, type, rec, len, NULL, 0);
	unlock(b);
	hmo_guard_leave();
	errno = saved_errno;
}

static bool recording(void)
{
	return hmo_tracing && !__atomic_load_n(&finished, __ATOMIC_RELAXED);
}

void hmo_trace_event(enum hmo_fn fn, uint64_t t0, uint64_t size, const void *addr, const void *old,
		     unsigned outcome, unsigned backing, int node)
{
	uint64_t t1 = os_now_ns();

	if (!recording())
		return;
	if (!t0)	/* the call started before tracing did */
		t0 = t1;
	struct hmo_rec_event e = {
		.t = t0, .dur = t1 - t0, .size = size, .addr = (uintptr_t)addr, .old = (uintptr_t)old,
		.tid = (uint32_t)tid(), .fn = (uint8_t)fn, .outcome = (uint8_t)outcome,
		.backing = (uint8_t)backing, .node = (int8_t)node,
	};
	put_with_stack(HMO_REC_EVENT, &e, sizeof e, offsetof(struct hmo_rec_event, stack));
}

void hmo_trace_copy(enum hmo_fn fn, uint64_t t0, uint64_t size, const void *dst, const void *src)
{
	uint64_t t1 = os_now_ns();

	if (!recording())
		return;
	struct hmo_rec_copy c = {
		.t = t0, .dur = t1 - t0, .size = size, .dst = (uintptr_t)dst, .src = (uintptr_t)src,
		.tid = (uint32_t)tid(), .fn = (uint8_t)fn,
	};
	put_with_stack(HMO_REC_COPY, &c, sizeof c, offsetof(struct hmo_rec_copy, stack));
}

void hmo_trace_cuda(unsigned op, uint64_t t0, uint64_t size, uint64_t ptr, unsigned flags, int result)
{
	uint64_t t1 = os_now_ns();

	if (!recording() || hmo_tls.guard)
		return;
	struct hmo_rec_cuda c = {
		.t = t0, .dur = t1 - t0, .size = size, .ptr = ptr, .tid = (uint32_t)tid(), .op = (uint16_t)op,
		.flags = (uint8_t)flags, .result = result,
	};
	put_with_stack(HMO_REC_CUDA, &c, sizeof c, offsetof(struct hmo_rec_cuda, stack));
}

/* The pool's choice of pages: kept, so that a forked child's trace (the pool is
 * its parent's) says it too, and a trace begun after the pool started (by a
 * constructor that ran before hmo's) still gets it. */
static struct hmo_rec_pool pool_choice;
static bool pool_chosen;

/* For libhmo-cupti: one record of the GPU's into this process's trace. type 0 only
 * asks whether tracing is on. 0 when written (or on), -1 when not tracing. */
HMO_EXPORT int hmo_trace_external(uint16_t type, const void *payload, uint32_t size);

void hmo_trace_pool(const struct hmo_rec_pool *r)
{
	pool_choice = *r;
	__atomic_store_n(&pool_chosen, true, __ATOMIC_RELEASE);
	(void)hmo_trace_external(HMO_REC_POOL, &pool_choice, sizeof pool_choice);
}
HMO_EXPORT int hmo_trace_external(uint16_t type, const void *payload, uint32_t size)
{
	if (!recording())
		return -1;
	if (type == 0)
		return 0;
	if (size > HMO_REC_MAX)
		return -1;
	int saved_errno = errno;
	hmo_guard_enter();
	struct hmo_tbuf *b = my_buf();
	put(b, type, payload, size, NULL, 0);
	unlock(b);
	hmo_guard_leave();
	errno = saved_errno;
	return 0;
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct hmo_tbuf *b = arg;
	struct hmo_rec_module m = { UINT64_MAX, 0, info->dlpi_addr, module_gen, 0 };
	char exe[1024];
	const char *path = info->dlpi_name;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uint64_t a = info->dlpi_addr + ph->p_vaddr;
		if (a < m.start)
			m.start = a;
		if (a + ph->p_memsz > m.end)
			m.end = a + ph->p_memsz;
	}
	if (m.start >= m.end)
		return 0;
	if (!path || !*path) {
		/* the executable */
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		exe[n > 0 ? n : 0] = '\0';
		path = exe;
	}
	m.path_len = (uint32_t)strnlen(path, 4096);
	put(b, HMO_REC_MODULE, &m, sizeof m, path, m.path_len);
	return 0;
}

void hmo_trace_modules(void)
{
	if (!hmo_tracing)
		return;
	int saved_errno = errno;
	hmo_guard_enter();
	lock(&spare);
	module_gen++;
	dl_iterate_phdr(module_cb, &spare);
	/* Out at once: the module map must be in the file before any event's stack
	 * needs it, even if the program is then killed. */
	flush_locked(&spare);
	unlock(&spare);
	hmo_guard_leave();
	errno = saved_errno;
}

/* `full`: also the pool's cached bytes, through jemalloc's mallctl, which a signal
 * handler must not call. */
static void take_sample(struct hmo_tbuf *b, bool full)
{
	struct hmo_rec_sample s = { .t = os_now_ns() };
	struct os_figures f;

	os_proc_figures(&f);
	s.minflt = f.minflt;
	s.majflt = f.majflt;
	s.rss = f.rss;
	s.anon_huge = f.anon_huge;
	struct pool_stats ps;
	pool_get_stats(&ps);
	s.pool_live = ps.live_bytes;
	s.pool_cached = full ? pool_cached_bytes() : 0;
	put(b, HMO_REC_SAMPLE, &s, sizeof s, NULL, 0);
}

/* ---- the sampler thread --------------------------------------------------- */

static void *sampler(void *arg)
{
	struct timespec ts = { hmo_opt.interval_ms / 1000, (hmo_opt.interval_ms % 1000) * 1000000 };

	(void)arg;
	hmo_guard_enter();	/* whatever it calls passes straight through */
	if (ts.tv_sec == 0 && ts.tv_nsec < 1000000)
		ts.tv_nsec = 1000000;
	for (;;) {
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		ts.tv_sec = hmo_opt.interval_ms / 1000;
		ts.tv_nsec = (hmo_opt.interval_ms % 1000) * 1000000;
		if (ts.tv_sec == 0 && ts.tv_nsec < 1000000)
			ts.tv_nsec = 1000000;
		if (!hmo_tracing || __atomic_load_n(&finished, __ATOMIC_ACQUIRE))
			break;
		lock(&sampler_buf);
		take_sample(&sampler_buf, true);
		unlock(&sampler_buf);
		flush_all(false);
	}
	return NULL;
}

/* Started from a hook, never from the constructor's loader context, and again in a
 * forked child on its first traced event. Signals are blocked in it, so the
 * program's handlers never run there. */
static void start_sampler(void)
{
	pthread_t t;
	pthread_attr_t a;
	sigset_t all_sigs, old;
	pid_t me = getpid();

	if (__atomic_exchange_n(&sampler_pid, me, __ATOMIC_ACQ_REL) == me || hmo_opt.interval_ms < 0)
		return;
	sigfillset(&all_sigs);
	pthread_sigmask(SIG_SETMASK, &all_sigs, &old);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 * 1024);
	if (pthread_create(&t, &a, sampler, NULL) == 0)
		pthread_setname_np(t, "hmo-sampler");
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- start, fork, exit ---------------------------------------------------- */

/* The file's name: HMO_TRACE as a directory gets hmo-EXE-PID.trace inside it; 1
 * means the current directory; anything else is a pattern. A name already taken
 * (an exec keeps the pid) gets .1 to .9 added. */
static int open_trace(char *name, size_t cap)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_APPEND;
	struct fmt_buf b;
	struct stat st;
	int fd;

	fmt_init(&b, name, cap);
	if (hmo_opt.trace.kind == HMO_DEST_STDERR || stat(hmo_opt.trace.path, &st) == 0) {
		if (hmo_opt.trace.kind == HMO_DEST_STDERR)
			fmt_str(&b, ".");
		else if (S_ISDIR(st.st_mode))
			fmt_str(&b, hmo_opt.trace.path);
		else
			goto pattern;
		fmt_str(&b, "/hmo-%e-%p.trace");
		char pat[HMO_PATH_MAX + 64];
		os_memmove(pat, name, b.len + 1);
		fmt_init(&b, name, cap);
		hmo_expand_path(&b, pat);
	} else {
pattern:
		hmo_expand_path(&b, hmo_opt.trace.path);
	}
	size_t base = b.len;
	if (b.truncated) {	/* never a file of a cut name */
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(name, flags, 0600);
	for (int i = 1; fd < 0 && errno == EEXIST && i <= 9; i++) {
		b.len = base;
		fmt_char(&b, '.');
		fmt_u64(&b, (uint64_t)i);
		fd = open(name, flags, 0600);
	}
	return fd;
}

/* The trace could not start (no file, or its first write failed): one line, no
 * file left behind, and the program runs on untraced. */
static void start_failed(const char *name, int fd, int err)
{
	char line[512];
	struct fmt_buf w;

	if (fd >= 0) {
		close(fd);
		unlink(name);
	}
	hmo_tracing = false;
	fmt_init(&w, line, sizeof line);
	fmt_str(&w, "hmo: trace ");
	fmt_shown(&w, name, SIZE_MAX, FMT_SHOWN_MAX);
	fmt_str(&w, ": ");
	fmt_errno(&w, err);
	fmt_str(&w, "; tracing off");
	os_warn(w.p);
}

/* The header and the process record go out in one write: when that fails (a full
 * disk, EIO), the file is removed rather than left empty or headless. */
static void write_start(void)
{
	char cmd[4096], exe[1024], opts[2048], name[HMO_PATH_MAX + 64];
	struct hmo_rec_process p;
	struct hmo_rec r = { HMO_REC_PROCESS, 0, 0 };
	char first[sizeof(struct hmo_trace_header) + sizeof r + sizeof p + sizeof exe + sizeof cmd +
		   sizeof opts + 8];
	struct timespec rt;
	ssize_t cn, en;
	size_t len;
	int fd = open_trace(name, sizeof name);

	if (fd < 0) {
		start_failed(name, -1, errno);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &rt);
	struct hmo_trace_header h = {
		.magic = HMO_TRACE_MAGIC, .version = HMO_TRACE_VERSION, .header_size = sizeof h,
		.pid = (uint32_t)getpid(), .ppid = (uint32_t)getppid(), .start_ns = hmo_start_ns,
		.start_real_ns = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec,
	};
	cn = os_read_small("/proc/self/cmdline", cmd, sizeof cmd);
	en = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[en > 0 ? en : 0] = '\0';
	struct fmt_buf o;
	fmt_init(&o, opts, sizeof opts);
	extern char **environ;
	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, "HMO_", 4) == 0) {
			fmt_str(&o, *e);
			fmt_char(&o, '\n');
		}
	}
	p = (struct hmo_rec_process){
		.threshold = hmo_opt.threshold, .copy_min = hmo_opt.trace_copy_min,
		.exe_len = (uint32_t)strlen(exe), .cmdline_len = cn > 0 ? (uint32_t)cn : 0,
		.options_len = (uint32_t)o.len, .backtrace_depth = (uint32_t)depth,
	};
	/* the header, then the record as put() lays it out: padded to 8 */
	r.size = (uint32_t)sizeof p + p.exe_len + p.cmdline_len + p.options_len;
	len = sizeof h + sizeof r + ((r.size + 7) & ~7u);
	os_memset(first, 0, len);
	char *q = first;
	os_memmove(q, &h, sizeof h), q += sizeof h;
	os_memmove(q, &r, sizeof r), q += sizeof r;
	os_memmove(q, &p, sizeof p), q += sizeof p;
	os_memmove(q, exe, p.exe_len), q += p.exe_len;
	os_memmove(q, cmd, p.cmdline_len), q += p.cmdline_len;
	os_memmove(q, opts, p.options_len);
	int err = os_write_all(fd, first, len);
	if (err) {
		start_failed(name, fd, err);
		return;
	}
	trace_fd = fd;
}

static void restart_countdown(struct hmo_slot *s, void *arg)
{
	(void)arg;
	if (s->sample_left > hmo_sample_every)
		s->sample_left = hmo_sample_every;
}

void hmo_lat_note(struct hmo_slot *s, enum hmo_fn fn, uint64_t t0)
{
	uint64_t d = os_now_ns() - t0;

	d = d > clock_cost ? d - clock_cost : 0;
	HMO_ADD(s->lat[fn].samples, 1);
	HMO_ADD(s->lat[fn].hist[hmo_hist_bucket(d)], 1);
	s->sample_left = hmo_sample_every;
}

void hmo_trace_init(void)
{
	if (hmo_opt.trace.kind == HMO_DEST_OFF)
		return;
	depth = (int)hmo_opt.backtrace;
	stacks = os_raw_mmap(NULL, sizeof *stacks * STACK_TABLE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stacks == MAP_FAILED)
		stacks = NULL;
	register_buf(&spare);
	register_buf(&sampler_buf);
	dl_iterate_phdr(find_self, (void *)(uintptr_t)&hmo_trace_init);
	if (depth)
		unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	hmo_tracing = true;
	write_start();
	if (!hmo_tracing)
		return;
	if (__atomic_load_n(&pool_chosen, __ATOMIC_ACQUIRE))
		(void)hmo_trace_external(HMO_REC_POOL, &pool_choice, sizeof pool_choice);
	hmo_trace_copy_min = hmo_opt.trace_copy_min;
	hmo_copy_timing();
	/* The least that two clock reads add, taken off every timed call. */
	clock_cost = UINT64_MAX;
	for (int i = 0; i < 64; i++) {
		uint64_t a = os_now_ns(), b = os_now_ns();
		if (b - a < clock_cost)
			clock_cost = b - a;
	}
	if (hmo_opt.sample) {
		hmo_sample_every = hmo_opt.sample;
		/* Threads already counted start their countdowns now. */
		hmo_counters_each(restart_countdown, NULL);
	}
}

/* In a forked child: the parent's buffered records are the parent's to write; the
 * child starts its own file, with its own stacks and module map. */
void hmo_trace_child(void)
{
	if (!hmo_tracing)
		return;
	for (struct hmo_tbuf *b = all; b; b = b->next) {
		b->lock = 0;
		b->len = 0;
		b->nrec = 0;
		os_memset(b->cache, 0, sizeof b->cache);
	}
	if (stacks)
		os_memset(stacks, 0, sizeof *stacks * STACK_TABLE);
	next_stack = 0;
	my_tid = 0;
	finished = 0;
	if (trace_fd >= 0)
		close(trace_fd);
	trace_fd = -1;
	write_start();
	modules_due = hmo_tracing;
	if (__atomic_load_n(&pool_chosen, __ATOMIC_ACQUIRE))
		(void)hmo_trace_external(HMO_REC_POOL, &pool_choice, sizeof pool_choice);
}

/* The calling thread's slot is being given up: its records go out now. */
void hmo_trace_thread_exit(struct hmo_slot *s)
{
	if (!s->tb)
		return;
	lock(s->tb);
	flush_locked(s->tb);
	unlock(s->tb);
	my_tid = 0;
}

static void put_counters(struct hmo_slot *s, void *arg)
{
	struct hmo_tbuf *b = arg;
	struct hmo_rec_fn f[FN_COUNT];
	struct hmo_rec_counters c = { s->tid, 0 };

	for (int i = 0; i < FN_COUNT; i++) {
		const struct hmo_fn_stats *src = &s->fn[i];
		struct hmo_rec_fn *d = &f[c.nfn];
		uint64_t calls = 0;
		for (int k = 0; k < HMO_HIST_BUCKETS; k++)
			calls += __atomic_load_n(&src->hist[k], __ATOMIC_RELAXED);
		if (!calls)
			continue;
		os_memset(d, 0, sizeof *d);
		d->fn = (uint32_t)i;
		d->calls = calls;
		d->bytes = __atomic_load_n(&src->bytes, __ATOMIC_RELAXED);
		d->large_calls = __atomic_load_n(&src->large_calls, __ATOMIC_RELAXED);
		d->large_bytes = __atomic_load_n(&src->large_bytes, __ATOMIC_RELAXED);
		for (int k = 0; k < HMO_HIST_BUCKETS && k < HMO_TRACE_BUCKETS; k++)
			d->hist[k] = __atomic_load_n(&src->hist[k], __ATOMIC_RELAXED);
		d->lat_samples = __atomic_load_n(&s->lat[i].samples, __ATOMIC_RELAXED);
		for (int k = 0; k < HMO_HIST_BUCKETS && k < HMO_TRACE_BUCKETS; k++)
			d->lat_hist[k] = __atomic_load_n(&s->lat[i].hist[k], __ATOMIC_RELAXED);
		c.nfn++;
	}
	if (c.nfn)
		put(b, HMO_REC_COUNTERS, &c, sizeof c, f, c.nfn * (uint32_t)sizeof f[0]);
}

/* At exit, _exit or a fatal signal: counters, a last sample, the end record, and
 * every buffer out. Runs once per process; later records are not kept. */
void hmo_trace_finish(unsigned how, int status)
{
	int expect = 0;

	if (!hmo_tracing || !__atomic_compare_exchange_n(&finished, &expect, 1, false, __ATOMIC_ACQ_REL,
							 __ATOMIC_ACQUIRE))
		return;
	int saved_errno = errno;
	hmo_guard_enter();
	bool sig = how == HMO_END_SIGNAL;
	if (sig ? trylock(&spare) : (lock(&spare), true)) {
		if (!sig)
			hmo_counters_each(put_counters, &spare);
		take_sample(&spare, !sig);
		unlock(&spare);
	}
	flush_all(sig);
	if (sig ? trylock(&spare) : (lock(&spare), true)) {
		struct hmo_rec_end e = { os_now_ns(), how, status,
					 __atomic_load_n(&dropped, __ATOMIC_RELAXED) };
		put(&spare, HMO_REC_END, &e, sizeof e, NULL, 0);
		flush_locked(&spare);
		unlock(&spare);
	}
	hmo_guard_leave();
	errno = saved_errno;
}

/* exec replaces the process, and what its buffers hold would be lost: they go out
 * first. Only those not in use (exec is async-signal-safe, and a handler may call
 * it), and no end record: exec can fail, and the program then goes on. */
void hmo_trace_flush(void)
{
	if (!hmo_tracing || __atomic_load_n(&finished, __ATOMIC_ACQUIRE))
		return;
	int saved_errno = errno;
	hmo_guard_enter();
	flush_all(true);
	hmo_guard_leave();
	errno = saved_errno;
}

/* ---- fatal signals ----------------------------------------------------------
 * Only the crash signals, and only where the program left them at their default:
 * a handler for SIGINT or SIGTERM would change what programs see (Python installs
 * its KeyboardInterrupt handler only over the default). The handler writes what it
 * can without waiting for a lock, then the signal is raised again with its default
 * action, so the process dies as it would have. */
static void on_fatal(int sig)
{
	hmo_trace_finish(HMO_END_SIGNAL, sig);
	raise(sig);
}

void hmo_trace_signals(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	struct sigaction sa, old;

	if (!hmo_tracing)
		return;
	os_memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
		    !(old.sa_flags & SA_SIGINFO))
			sigaction(sigs[i], &sa, NULL);
}
