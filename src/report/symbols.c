/* symbols.c: return addresses to "function (file:line)", with elfutils' libdwfl.
 *
 * Offline: each process's module map (from its trace) is reported to a Dwfl at the
 * load biases it had, and libdwfl finds symbols, and DWARF line information where
 * the objects (or their separate debug files) have it. Only the stacks that the
 * report prints are looked up. */
#include "symbols.h"

#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

struct symbolizer {
	Dwfl *dwfl;
	const struct proc *proc;
};

bool sym_files_off;
static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

struct symbolizer *sym_new(const struct proc *p)
{
	struct symbolizer *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	s->proc = p;
	if (sym_files_off)
		return s;
	s->dwfl = dwfl_begin(&callbacks);
	if (!s->dwfl)
		return s;
	dwfl_report_begin(s->dwfl);
	for (size_t i = 0; i < p->nmods; i++) {
		const struct module *m = &p->mods[i];
		const char *base = strrchr(m->path, '/');
		struct stat st;
		/* Only regular files: the vdso has no file, and a trace that names a device
		 * or a FIFO (a corrupt or hostile one) must not make the report hang. */
		if (m->path[0] != '/' || stat(m->path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		(void)dwfl_report_elf(s->dwfl, base ? base + 1 : m->path, m->path, -1, m->bias, false);
	}
	dwfl_report_end(s->dwfl, NULL, NULL);
	return s;
}

void sym_free(struct symbolizer *s)
{
	if (!s)
		return;
	if (s->dwfl)
		dwfl_end(s->dwfl);
	free(s);
}

static const struct module *module_of(const struct proc *p, uint64_t pc)
{
	for (size_t i = 0; i < p->nmods; i++)
		if (pc >= p->mods[i].start && pc < p->mods[i].end)
			return &p->mods[i];
	return NULL;
}

void sym_frame(struct symbolizer *s, uint64_t pc, char *out, size_t cap)
{
	/* A return address points after the call: look up the call itself. */
	uint64_t at = pc ? pc - 1 : 0;
	const struct module *mod = module_of(s->proc, at);
	const char *obj = mod ? strrchr(mod->path, '/') : NULL;
	const char *fn = NULL, *file = NULL;
	int line = 0;

	obj = obj ? obj + 1 : mod ? mod->path : "?";
	if (s->dwfl) {
		Dwfl_Module *m = dwfl_addrmodule(s->dwfl, at);
		if (m) {
			fn = dwfl_module_addrname(m, at);
			Dwfl_Line *l = dwfl_module_getsrc(m, at);
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
