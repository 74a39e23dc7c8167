#!/bin/sh
# ctx.sh's cases under every HMO_PIN and HMO_CUDA_POOL value, not only hmo's
# defaults (a long test: make check-long).
CTX_MATRIX=1
. "$SRCDIR/tests/cuda/ctx.sh"
