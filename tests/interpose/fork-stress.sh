#!/bin/sh
# Many forks while threads allocate, and from a signal handler: a fork that catches
# one of hmo's locks held, or its counters half reset, shows in these runs (a long
# test: make check-long; fork.sh checks the summaries).
. "$SRCDIR/tests/lib.sh"
timeout 120 env LD_PRELOAD="$LIBHMO" "$T/t_fork" threads 1000 || fail "1000 forks with allocating threads (rc $?)"
timeout 120 env LD_PRELOAD="$LIBHMO" "$T/t_fork" signal 300 || fail "forks from a signal handler (rc $?)"
