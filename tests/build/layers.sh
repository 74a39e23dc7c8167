#!/bin/sh
# libhmo's files depend on each other one way: hooks -> {counters, pool, trace,
# cuda} -> os (doc/design.md, "Layers"); init.c and summary.c, at the top, set up
# and read every layer, and the only call up is the one that starts hmo. Read from the objects themselves: file A
# depends on file B when A refers to a symbol B defines. Calls of the functions hmo
# interposes (memcpy, malloc, dlsym, cuMemAlloc...) are calls of the C library or
# driver, and are not counted. Fails on any reference against the layers below and
# on any cycle.
. "$SRCDIR/tests/lib.sh"
need python3
need nm
[ -n "${LIBHMO_OBJECTS:-}" ] || skip "LIBHMO_OBJECTS is not set (run through make check)"
objs=
for lo in $LIBHMO_OBJECTS; do
	o="$BUILDDIR/$(dirname "$lo")/.libs/$(basename "$lo" .lo).o"
	[ -f "$o" ] || fail "$o is missing: build libhmo first"
	objs="$objs $o"
done
python3 - "$LIBHMO" $objs <<'PY' || exit 1
import os, subprocess, sys

lib, objs = sys.argv[1], sys.argv[2:]
# The layers, lowest first. A file may use files of lower layers, and files of its
# own layer as long as no cycle forms. cuda/ is one unit: its dispatch table and
# its wrappers name each other.
LAYERS = [
    ('platform', ['common/fmt', 'common/hist', 'common/options', 'common/names', 'common/pages',
                  'common/path', 'common/metrics', 'preload/arch', 'preload/os', 'preload/memlimit']),
    ('process', ['preload/process', 'preload/real', 'preload/bootstrap', 'preload/fresh', 'preload/numa']),
    ('counters', ['preload/counters']),
    ('pool', ['preload/pool']),
    ('trace', ['preload/tracer']),
    ('cuda', ['preload/cuda']),
    ('hooks', ['preload/alloc', 'preload/mmap', 'preload/copy', 'preload/dlopen', 'preload/dlsym',
               'preload/exec', 'preload/copyeng', 'preload/api']),
    ('top', ['preload/summary', 'preload/metrics', 'preload/init']),
]
rank = {f: i for i, (_, fs) in enumerate(LAYERS) for f in fs}
# The one way up: any hook may be the first code of hmo's to run in a process, so
# any file may start hmo (init.c, the top, which then sets up every layer).
STARTERS = {'hmo_init', 'hmo_count_or_init'}

def unit(obj):
    # libtool names an object after its library: libhmo_la-X.o, libhmo_core_la-X.o
    base = os.path.basename(obj)[:-2].split('_la-', 1)[1]
    d = os.path.dirname(os.path.dirname(obj))
    parts = d.split(os.sep)
    i = len(parts) - 1 - parts[::-1].index('src')
    rel = '/'.join(parts[i + 1:] + [base])
    return 'preload/cuda' if rel.startswith('preload/cuda/') else rel

def nm(args):
    return subprocess.run(['nm'] + args, capture_output=True, text=True, check=True).stdout

# What libhmo exports under a name that is not hmo's own: the interposed functions.
interposed = {l.split()[-1] for l in nm(['-D', '--defined-only', lib]).splitlines()
              if l.split() and not l.split()[-1].startswith('hmo')}
defined, used = {}, {}
for o in objs:
    u = unit(o)
    if u not in rank:
        print('FAIL: %s is in no layer: add it to tests/build/layers.sh and doc/design.md' % u)
        sys.exit(1)
    for line in nm([o]).splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in 'TDBRVW' and f[2] not in interposed:
            defined.setdefault(f[2], u)
        elif len(f) == 2 and f[0] == 'U':
            used.setdefault(u, set()).add(f[1])
edges = {}
for u, syms in used.items():
    for s in syms:
        d = defined.get(s)
        if d and d != u and s not in STARTERS:
            edges.setdefault(u, {}).setdefault(d, s)
bad = 0
for u in sorted(edges):
    for d, s in sorted(edges[u].items()):
        if rank[d] > rank[u]:
            print('FAIL: %s (layer %s) uses %s of %s (layer %s, above it)'
                  % (u, LAYERS[rank[u]][0], s, d, LAYERS[rank[d]][0]))
            bad += 1
# Cycles within a layer: a depth-first search that meets a file on its own path.
state = {}
def visit(u, path):
    state[u] = 1
    for d in sorted(edges.get(u, {})):
        if state.get(d) == 1:
            cyc = path[path.index(d):] + [d]
            print('FAIL: cycle ' + ' -> '.join(cyc))
            return True
        if not state.get(d) and visit(d, path + [d]):
            return True
    state[u] = 2
    return False
for u in sorted(rank):
    if not state.get(u) and visit(u, [u]):
        bad += 1
        break
n = sum(len(v) for v in edges.values())
print('%d files, %d dependencies, %s' % (len(rank), n, 'one way' if not bad else '%d wrong' % bad))
sys.exit(1 if bad else 0)
PY
