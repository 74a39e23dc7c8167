/* symbols.c: return addresses to "function (file:line)", with elfutils' libdwfl.
 *
 * Offline: a process's module map (from its trace) says which object an address is
 * in and at which load bias; the object is opened with libdwfl, which finds symbols,
 * and DWARF line information where the object (or its separate debug file) has it.
 * Each object file is opened once, at its link-time addresses, whatever the number of
 * processes and load addresses that name it, and asked for address - bias: a plugin
 * loaded and unloaded 20,000 times, or libc in a thousand processes, costs one
 * handle. Only the objects of the frames that the report prints are opened. */
#include "symbols.h"

#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A process's modules by start address, to find the one of an address by bisection;
 * reach[i] is the highest end of spans[0..i], which bounds the search backwards when
 * modules overlap (an address range reused after a dlclose). */
struct mod_span {
	uint64_t start, end;
	uint32_t idx;		/* into proc->mods: the first seen wins a tie */
};

struct symbolizer {
	const struct proc *proc;
	struct mod_span *spans;
	uint64_t *reach;
	size_t n;
};

/* An object file, shared by every symbolizer: open addressing on its path. */
struct object {
	char *path;
	Dwfl *dwfl;		/* NULL when it is not a regular file, or libdwfl cannot read it */
};

bool sym_files_off;
static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};
static struct object *objects;
static size_t nobjects, capobjects;
static size_t users;			/* live symbolizers: the objects go with the last */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* Opens PATH for libdwfl, if it is a regular file. O_NONBLOCK and fstat: a trace that
 * names a FIFO or a device (a corrupt or hostile one) must not make the report hang;
 * the vdso has no file at all. */
static Dwfl *open_object(const char *path)
{
	const char *base = strrchr(path, '/');
	struct stat st;
	Dwfl *d;
	int fd;

	if (path[0] != '/' || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !(d = dwfl_begin(&callbacks))) {
		close(fd);
		return NULL;
	}
	dwfl_report_begin(d);
	/* On success libdwfl keeps the descriptor; on failure it is still ours. */
	if (!dwfl_report_elf(d, base ? base + 1 : path, path, fd, 0, false)) {
		close(fd);
		dwfl_end(d);
		return NULL;
	}
	dwfl_report_end(d, NULL, NULL);
	return d;
}

/* The Dwfl of an object file, opened on first use; NULL when it cannot be read. */
static Dwfl *object_dwfl(const char *path)
{
	if (sym_files_off)
		return NULL;
	if ((nobjects + 1) * 2 > capobjects) {
		size_t cap = capobjects ? capobjects * 2 : 64;
		struct object *t = calloc(cap, sizeof *t);
		if (!t)
			return NULL;
		for (size_t i = 0; i < capobjects; i++) {
			if (!objects[i].path)
				continue;
			size_t j = hash_str(objects[i].path) & (cap - 1);
			while (t[j].path)
				j = (j + 1) & (cap - 1);
			t[j] = objects[i];
		}
		free(objects);
		objects = t;
		capobjects = cap;
	}
	size_t j = hash_str(path) & (capobjects - 1);
	for (; objects[j].path; j = (j + 1) & (capobjects - 1))
		if (strcmp(objects[j].path, path) == 0)
			return objects[j].dwfl;
	if (!(objects[j].path = strdup(path)))
		return NULL;
	nobjects++;
	objects[j].dwfl = open_object(path);
	return objects[j].dwfl;
}

static int by_start(const void *a, const void *b)
{
	const struct mod_span *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

struct symbolizer *sym_new(const struct proc *p)
{
	struct symbolizer *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	s->proc = p;
	s->spans = calloc(p->nmods + 1, sizeof *s->spans);
	s->reach = calloc(p->nmods + 1, sizeof *s->reach);
	if (!s->spans || !s->reach) {
		free(s->spans);
		free(s->reach);
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < p->nmods; i++)
		s->spans[i] = (struct mod_span){ p->mods[i].start, p->mods[i].end, (uint32_t)i };
	s->n = p->nmods;
	qsort(s->spans, s->n, sizeof *s->spans, by_start);
	for (size_t i = 0; i < s->n; i++)
		s->reach[i] = i && s->reach[i - 1] > s->spans[i].end ? s->reach[i - 1] : s->spans[i].end;
	users++;
	return s;
}

void sym_free(struct symbolizer *s)
{
	if (!s)
		return;
	free(s->spans);
	free(s->reach);
	free(s);
	if (--users)
		return;
	for (size_t i = 0; i < capobjects; i++) {
		if (objects[i].dwfl)
			dwfl_end(objects[i].dwfl);
		free(objects[i].path);
	}
	free(objects);
	objects = NULL;
	nobjects = capobjects = 0;
}

/* The module that holds PC: of those that do, the first the trace listed. */
static const struct module *module_of(const struct symbolizer *s, uint64_t pc)
{
	size_t lo = 0, hi = s->n;
	uint32_t best = UINT32_MAX;

	while (lo < hi) {	/* the first span that starts above pc */
		size_t mid = (lo + hi) / 2;
		if (s->spans[mid].start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0 && s->reach[i] > pc;)
		if (pc < s->spans[i].end && s->spans[i].idx < best)
			best = s->spans[i].idx;
	return best == UINT32_MAX ? NULL : &s->proc->mods[best];
}

void sym_frame(struct symbolizer *s, uint64_t pc, char *out, size_t cap)
{
	/* A return address points after the call: look up the call itself. */
	uint64_t at = pc ? pc - 1 : 0;
	const struct module *mod = module_of(s, at);
	const char *obj = mod ? strrchr(mod->path, '/') : NULL;
	const char *fn = NULL, *file = NULL;
	Dwfl *d = mod ? object_dwfl(mod->path) : NULL;
	int line = 0;

	obj = obj ? obj + 1 : mod ? mod->path : "?";
	if (d) {
		/* the object is at its link-time addresses: the address less the load bias */
		Dwarf_Addr a = at - mod->bias;
		Dwfl_Module *m = dwfl_addrmodule(d, a);
		if (m) {
			fn = dwfl_module_addrname(m, a);
			Dwfl_Line *l = dwfl_module_getsrc(m, a);
			if (l)
				file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
		}
	}
	/* GCC's clones (f.constprop.0, f.isra.0, f.part.0, f.cold) are the function f. */
	char plain[256];
	const char *dot = fn ? strchr(fn, '.') : NULL;
	if (dot && dot != fn && (size_t)(dot - fn) < sizeof plain &&
	    (!strncmp(dot, ".constprop.", 11) || !strncmp(dot, ".isra.", 6) || !strncmp(dot, ".part.", 6) ||
	     !strcmp(dot, ".cold") || !strncmp(dot, ".cold.", 6))) {
		memcpy(plain, fn, (size_t)(dot - fn));
		plain[dot - fn] = '\0';
		fn = plain;
	}
	if (fn && file) {
		const char *f = strrchr(file, '/');
		snprintf(out, cap, "%s (%s:%d)", fn, f ? f + 1 : file, line);
	} else if (fn) {
		snprintf(out, cap, "%s (%s)", fn, obj);
	} else if (mod) {
		snprintf(out, cap, "%s+0x%llx", obj, (unsigned long long)(at + 1 - mod->bias));
	} else {
		snprintf(out, cap, "0x%llx", (unsigned long long)pc);
	}
}
