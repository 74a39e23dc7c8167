/* pages: the sentence that says which pages the frame pool put fresh frames on and
 * why, from its HMO_REC_POOL record. libhmo's summary and hmo-report say it alike. */
#ifndef HMO_PAGES_H
#define HMO_PAGES_H

#include "fmt.h"
#include "trace.h"

/* "frames on 4 KiB pages, reused: fresh huge pages 0.47 GB/s, 4 KiB pages 2.50 GB/s
 * on this boot (measured now)", with no newline. */
void pages_say(struct fmt_buf *b, const struct hmo_rec_pool *r);

#endif
