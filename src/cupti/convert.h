/* convert.h: CUPTI activity records to hmo trace records. Pure functions: the unit
 * tests feed them synthetic records, the collector real ones. */
#ifndef HMO_CUPTI_CONVERT_H
#define HMO_CUPTI_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "common/trace.h"

/* The record types and layouts this converter knows, by CUPTI's activity kind. */
#define HMO_CUPTI_MAX_REC (sizeof(struct hmo_rec_gpu_kernel) + 512)

/* Converts one CUPTI activity record (a CUpti_Activity *) into a trace record in
 * out (at least HMO_CUPTI_MAX_REC bytes). Returns the payload size and sets *type,
 * or 0 for a kind that is not converted. */
size_t hmo_cupti_convert(const void *activity, void *out, uint16_t *type);

#endif
