/* path.h: the %-patterns of the HMO_STATS, HMO_TRACE and HMO_METRICS paths. */
#ifndef HMO_COMMON_PATH_H
#define HMO_COMMON_PATH_H

#include "fmt.h"

/* Appends `pat` to b with %p (the pid), %e (the program's short name), %t (the time
 * in seconds) and %% expanded. Other % sequences are refused when the option is
 * parsed; here they give a plain '%'. No malloc. */
void hmo_expand_path(struct fmt_buf *b, const char *pat);

#endif
