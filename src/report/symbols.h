/* symbols.h: symbolizing a process's return addresses offline (libdwfl). */
#ifndef HMO_REPORT_SYMBOLS_H
#define HMO_REPORT_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct symbolizer;

/* When set, no object file is read: frames print as object+offset. The fuzzer sets
 * it, to spend its time on hmo's code rather than on libdwfl's. */
extern bool sym_files_off;

/* A symbolizer for the objects `p` had loaded; it keeps a pointer to p. */
struct symbolizer *sym_new(const struct proc *p);
void sym_free(struct symbolizer *s);
/* "function (file:line)", "function (object)", "object+0xOFFSET" or "0xADDR". */
void sym_frame(struct symbolizer *s, uint64_t pc, char *out, size_t cap);

#endif
