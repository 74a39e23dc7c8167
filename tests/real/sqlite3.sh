#!/bin/sh
. "$SRCDIR/tests/real/common.sh"
need sqlite3
cat >"$WORK/q.sql" <<'SQL'
CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB);
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000)
INSERT INTO t SELECT x, printf('row %d', x), zeroblob(x % 300) FROM n;
CREATE INDEX tb ON t(b);
SELECT count(*), sum(length(c)), max(b) FROM t;
SELECT b FROM t WHERE a % 9973 = 0 ORDER BY b;
SQL
same "sqlite3" sh -c "sqlite3 ':memory:' < '$WORK/q.sql'"
