/* fuzz_reader: libFuzzer harness for hmo-report's reading side. Each input is
 * written to a memory file and read as a trace; the whole report (text, JSON, the
 * exports that need no file of their own) is made from it. Whatever the bytes, this
 * must neither crash, nor hang, nor leak.
 *
 *   fuzz_reader [libFuzzer options] [CORPUS...]   (tests/fuzz/fuzz.sh runs it) */
/* _GNU_SOURCE comes from config.h, which the build includes first. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "report/model.h"
#include "report/report.h"
#include "report/symbols.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	char path[64];
	struct model m;
	struct report r;
	int fd = memfd_create("trace", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (!null)
		null = fopen("/dev/null", "w");
	sym_files_off = true;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	model_init(&m);
	/* stderr carries the reader's one-line complaints; keep the fuzzer's log quiet */
	FILE *err = stderr;
	stderr = null;
	int rc = model_read(&m, path);
	stderr = err;
	if (rc == 0) {
		model_finish(&m);
		report_init(&r, &m, 5);
		report_text(null, &r);
		report_json(null, &r);
		report_done(&r);
	}
	model_free(&m);
	close(fd);
	return 0;
}
