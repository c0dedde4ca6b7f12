#!/usr/bin/env bash
# WAL written per UPDATE with REPLICA IDENTITY DEFAULT (the baseline) and FULL (what the in-place
# write switch sets until the contract, docs/phases.md "Old-shape writes after the switch"), on a
# throwaway PostgreSQL cluster with wal_level=logical. Not timed: bytes from pg_current_wal_insert_lsn().
# Usage: bench/replica-identity-wal.sh <postgres bin dir> [rows] [updates]
#   e.g. bench/replica-identity-wal.sh /tmp/shapeshift-pg-16.16.0/bin 100000 20000
set -euo pipefail
BIN=${1:?postgres bin dir (initdb, pg_ctl, postgres)}
ROWS=${2:-100000}
UPDATES=${3:-20000}
PSQL=${PSQL:-$(command -v psql)}
DIR=$(mktemp -d)
PORT=$(( 20000 + RANDOM % 20000 ))
RUN=()
if [ "$(id -u)" = 0 ]; then RUN=(runuser -u nobody --); chown nobody "$DIR"; chmod 755 "$DIR"; fi  # initdb refuses root
trap '"${RUN[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
"${RUN[@]}" "$BIN/initdb" -D "$DIR/data" -U bench -A trust >/dev/null
"${RUN[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -o "-p $PORT -k $DIR -c wal_level=logical -c max_wal_size=4GB" start >/dev/null
q() { "$PSQL" -X -q -t -A -h "$DIR" -p "$PORT" -U bench -d postgres -v ON_ERROR_STOP=1 -c "$1"; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {print $2/1024/1024 " GiB"}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "date: $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg); server: $(q 'SHOW server_version')"
echo "command: $0 $*"
echo
echo "| row pad bytes | identity | pass | WAL bytes/update | ratio to DEFAULT |"
echo "|---|---|---|---|---|"
# UPDATEs of the new columns only (what new code writes after the switch), one key at a time, spread
# over the table. Pass 1 follows a CHECKPOINT (most updates also log a full-page image); pass 2 runs
# the same updates again (no full-page images left to write: the marginal cost of the old row).
for pad in 0 1000; do
  for identity in DEFAULT FULL; do
    q "SET client_min_messages = warning; DROP TABLE IF EXISTS users; CREATE TABLE users (id bigint PRIMARY KEY,
       name text NOT NULL, legacy_verified_at timestamptz, label text, email_verified boolean, label_key text, pad text);
       INSERT INTO users SELECT g, 'user ' || g, CASE WHEN g % 3 = 0 THEN '2020-01-01'::timestamptz END,
       'Label ' || g, g % 3 = 0, 'label ' || g, repeat('x', $pad) FROM generate_series(1, $ROWS) g;
       ALTER TABLE users ALTER COLUMN pad SET STORAGE PLAIN; ALTER TABLE users REPLICA IDENTITY $identity;"
    q "VACUUM ANALYZE users"; q "CHECKPOINT"
    for pass in 1 2; do
      start=$(q "SELECT pg_current_wal_insert_lsn()")
      q "DO \$\$ BEGIN FOR i IN 1..$UPDATES LOOP UPDATE users SET email_verified = NOT email_verified WHERE id = 1 + (i * 7919) % $ROWS; END LOOP; END \$\$"
      bytes=$(q "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$start')")
      per=$(( bytes / UPDATES ))
      if [ "$identity" = DEFAULT ]; then eval "base_${pad}_${pass}=$per"; fi
      base=$(eval echo "\$base_${pad}_${pass}")
      echo "| $pad | $identity | $pass | $per | $(awk -v a="$per" -v b="$base" 'BEGIN {printf "%.2f", a/b}') |"
    done
  done
done
