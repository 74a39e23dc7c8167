# ---- checks of the build itself (tests/build) -- included by Makefile.am -------
# layers.sh reads libhmo's objects (LIBHMO_OBJECTS, from the test environment)
# and fails on a dependency against the layers of doc/design.md.
BUILD_TESTS = tests/build/layers.sh
EXTRA_DIST += $(BUILD_TESTS)
FAST_TESTS += $(BUILD_TESTS)
