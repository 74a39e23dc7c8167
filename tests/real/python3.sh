#!/bin/sh
. "$SRCDIR/tests/real/common.sh"
need /usr/bin/python3
same python3 /usr/bin/python3 -c '
import hashlib, json, threading, subprocess, sys
d = {str(i): [i] * (i % 50) for i in range(20000)}
s = json.dumps(d, sort_keys=True)
print(hashlib.sha256(s.encode()).hexdigest())
big = bytearray(64 << 20); big[-1] = 7; print(len(big), big[-1])
t = [threading.Thread(target=lambda: sum(range(10**5))) for _ in range(8)]
[x.start() for x in t]; [x.join() for x in t]
print(subprocess.run([sys.executable, "-c", "print(6*7)"], capture_output=True, text=True).stdout.strip())
'
