/* text.h: the text report. */
#ifndef HMO_REPORT_TEXT_H
#define HMO_REPORT_TEXT_H

#include <stdbool.h>
#include <stdio.h>

#include "model.h"

/* Writes the report of `m` (after model_finish) to `o`, with `top` entries in each
 * list of call sites. */
void report_text(FILE *o, struct model *m, unsigned top);

const char *report_fn_name(unsigned fn);
bool is_free_fn(int f);
/* "49.8 MiB", "12.0 ms": into a buffer of at least 32 bytes. */
const char *report_bytes(char *buf, uint64_t v);
const char *report_ns(char *buf, uint64_t ns);

#endif
