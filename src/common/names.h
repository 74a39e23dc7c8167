/* names.h: the name of each value of trace.h's enums, as libhmo's summary and
 * hmo-report print it. One table per enum, so that the two can never disagree. */
#ifndef HMO_COMMON_NAMES_H
#define HMO_COMMON_NAMES_H

#include <stdbool.h>

#include "trace.h"

/* enum hmo_fn: "malloc", "mmap", "__memcpy_chk"; "?" for a number out of range (a
 * trace from a newer writer, or a damaged one). */
const char *hmo_fn_name(unsigned fn);
/* enum hmo_cu_op: the name the driver exports, "cuMemAlloc_v2"; "?" out of range. */
const char *hmo_cu_name(unsigned op);
/* Whether a function's byte column means anything (free does not know its size):
 * libhmo's summary and HMO_METRICS, and hmo-report --openmetrics, which must agree. */
extern const bool hmo_fn_has_bytes[FN_COUNT];

#endif
