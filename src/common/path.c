/* path.c: see path.h. */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "path.h"

void hmo_expand_path(struct fmt_buf *b, const char *pat)
{
	for (const char *p = pat; *p; p++) {
		if (*p != '%') {
			fmt_char(b, *p);
			continue;
		}
		switch (*++p) {
		case 'p': fmt_u64(b, (uint64_t)getpid()); break;
		case 'e': fmt_str(b, program_invocation_short_name); break;
		case 't': fmt_u64(b, (uint64_t)time(NULL)); break;
		default: fmt_char(b, '%'); break;	/* "%%"; others were refused at parse time */
		}
	}
}
