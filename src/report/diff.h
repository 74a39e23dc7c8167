/* diff.h: hmo-report --diff, two runs side by side: each side's figures, the change
 * (after minus before, and in % of before) and the call sites that changed most,
 * matched between the sides by their symbolized frames. */
#ifndef HMO_REPORT_DIFF_H
#define HMO_REPORT_DIFF_H

#include <stdio.h>

#include "report.h"

/* R[0] is the before side, R[1] the after side, each report_init'd on a finished
 * model (read only here); NAMES are the operands as the user gave them. */
void diff_text(FILE *o, struct report r[2], const char *const names[2]);
/* The same as JSON (doc/report-json.md, "hmo-report --diff --json"). */
void diff_json(FILE *o, struct report r[2], const char *const names[2]);

#endif
