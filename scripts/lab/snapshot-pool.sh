#!/bin/bash
# Usage: scripts/lab/snapshot-pool.sh SNAPSHOTS   — build (once) the kernel lab benchmark's snapshot pool; prints
# the directory holding its one vdev file (pool "benchsnap": 100 datasets, the root and benchsnap/d0..d98, each
# with SNAPSHOTS/100 snapshots @s0..). The guest imports it read-only (bench/lab-guest.ts, phase "snapshots") and
# lists it on OpenZFS; making it there costs an hour under QEMU's TCG (each `zfs snapshot -r` waits for a
# transaction group), here it takes seconds: it is made on the host by a zfs-fuse daemon of its own (pool version
# 23, which OpenZFS imports), in a private mount namespace (its socket and pool cache on tmpfs: the machine's
# zfs-fuse, if one runs, and its pools are never seen), then exported and kept in the lab's cache:
#   $CALYPSO_LAB_CACHE/<lab key>/bench/snapshots-<N>-<recipe>/benchsnap.img
# keyed by the lab (kernel, OpenZFS version) and this script's checksum, so a changed recipe builds a new pool.
# Safe to call concurrently (flock); a pool is moved into place only once it is complete and exported.
set -euo pipefail
. "$(dirname "$0")/common.sh"
N=${1:?usage: snapshot-pool.sh SNAPSHOTS}
[[ $N =~ ^[1-9][0-9]*$ ]] || die "SNAPSHOTS must be a positive integer, not '$N'"
DATASETS=100 SNAPS=$(( (N + 99) / 100 ))
need zfs-fuse zfs-fuse; need unshare util-linux
RECIPE=$(md5sum "${BASH_SOURCE[0]}" | cut -c1-8)
DIR=$CACHE_ROOT/$(lab_key)/bench/snapshots-$N-$RECIPE
if [ -e "$DIR/benchsnap.img" ]; then echo "$DIR"; exit 0; fi
mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
if ! flock -n 9; then log "another process is building $DIR; waiting"; flock 9; fi
if [ -e "$DIR/benchsnap.img" ]; then echo "$DIR"; exit 0; fi
WORK=$(mktemp -d "$DIR.tmp.XXXXXX"); trap 'rm -rf "$WORK"' EXIT
T0=$(now)
# the namespace's part: tmpfs on /run (zfs-fuse's socket and lock) and /var/lib/zfs (its pool cache); the daemon is
# stopped on every way out, so nothing outlives this script
unshare -m --propagation private bash -euo pipefail -c '
  W=$1 DATASETS=$2 SNAPS=$3
  mount -t tmpfs -o mode=755 calypso-snappool-run /run; mkdir -p /run/zfs /run/lock/zfs
  [ -d /var/lib/zfs ] && mount -t tmpfs -o mode=755 calypso-snappool-zfs /var/lib/zfs
  zfs-fuse --no-kstat-mount -p "$W/zfs-fuse.pid"
  stop() {
    p=$(cat "$W/zfs-fuse.pid" 2>/dev/null) || return 0
    kill "$p" 2>/dev/null || return 0
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  }
  trap stop EXIT
  for _ in $(seq 100); do zpool list >/dev/null 2>&1 && break; sleep 0.1; done
  truncate -s 1G "$W/benchsnap.img"
  zpool create -O mountpoint=none -O atime=off benchsnap "$W/benchsnap.img"
  for i in $(seq 0 $((DATASETS - 2))); do zfs create "benchsnap/d$i"; done
  t=$(date +%s.%N)
  for s in $(seq 0 $((SNAPS - 1))); do zfs snapshot -r "benchsnap@s$s"; done
  echo "snapshots $(zfs list -H -t snapshot -o name | wc -l) in $(awk -v a="$t" -v b="$(date +%s.%N)" "BEGIN{printf \"%.1f\", b-a}") s" > "$W/made"
  zpool export benchsnap
' snapshot-pool "$WORK" "$DATASETS" "$SNAPS" >&2
echo "$(cat "$WORK/made"), pool built in $(secs "$T0" "$(now)") s by zfs-fuse $(dpkg-query -W -f='${Version}' zfs-fuse 2>/dev/null)" > "$WORK/recipe"
mkdir -p "$DIR"
mv "$WORK/recipe" "$DIR/recipe"
mv "$WORK/benchsnap.img" "$DIR/benchsnap.img"   # last: its presence means the pool is complete
log "snapshot pool ready in $DIR: $(cat "$DIR/recipe")"
echo "$DIR"
