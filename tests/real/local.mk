# ---- real programs under hmo (tests/real) -- included by Makefile.am -----------
# python3, git, gcc, sort, tar|gzip, sqlite3, ffmpeg, stress-ng and the encoders,
# unchanged, under libhmo: long tests (make check-long).
REAL_TESTS = \
	tests/real/encoders.sh tests/real/sort.sh tests/real/stress-ng.sh tests/real/ffmpeg.sh \
	tests/real/tar-gzip.sh tests/real/sqlite3.sh tests/real/python3.sh tests/real/git.sh tests/real/gcc.sh
EXTRA_DIST += $(REAL_TESTS) tests/real/common.sh
LONG_TESTS += $(REAL_TESTS)
