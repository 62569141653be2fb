#!/bin/bash
# Usage: scripts/lab/record-fixtures.sh [all|tape|zfs|nfs]   (default all, in ONE guest boot)
# Re-records fixtures in the kernel lab (docs/testing.md, "Fixtures"): boots the guest once and runs there
# - tape: test/lab/guest/record-fixtures.ts (tgt's tape library through open-iscsi and the kernel's st/sg/ch drivers,
#   scsi_debug disks; the real mtx, mt, tapeinfo, lsscsi, sg_inq);
# - zfs: test/lab/guest/record-openzfs.ts (OpenZFS 2.1 from Debian contrib's zfs-dkms: pools on files, every pool state
#   the parser tests read, zvol, encryption, a resume token);
# - nfs: test/lab/guest/shares-nfs.ts with CALYPSO_LAB_RECORD set (the kernel nfsd's `exportfs -v` while the agent's
#   NFS shares are exported: addresses, a wildcard, a netgroup, long paths);
# then replaces the recorded fixture directories under test/fixtures/ with what it wrote. Run from the checkout after
# `node scripts/build.mjs`; review with `git diff`.
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:-all}
case $what in all|tape|zfs|nfs) ;; *) echo "usage: $0 [all|tape|zfs|nfs]" >&2; exit 2;; esac
for f in record-fixtures record-openzfs shares-nfs; do
  [ -f "dist/test/lab/guest/$f.js" ] || { echo "build first: node scripts/build.mjs" >&2; exit 2; }
done
cmd=()
case $what in all|tape) cmd+=("node dist/test/lab/guest/record-fixtures.js /calypso-lab-run/export");; esac
case $what in all|zfs) cmd+=("node dist/test/lab/guest/record-openzfs.js /calypso-lab-run/export");; esac
case $what in all|nfs) cmd+=("CALYPSO_LAB_RECORD=/calypso-lab-run/export node --test --test-concurrency=1 --test-reporter=spec dist/test/lab/guest/shares-nfs.js");; esac
joined=$(printf '%s && ' "${cmd[@]}"); joined=${joined% && }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
scripts/lab/run.sh -t "${CALYPSO_LAB_TIMEOUT:-1500}" -x "$tmp" -- "$joined"
if [ "$what" = all ] || [ "$what" = tape ]; then
  [ -f "$tmp/RECORDED.txt" ] || { echo "the guest recorded no tape fixtures" >&2; exit 1; }
  for d in mtx/lab-tgt mt-st/lab-tgt lsscsi/lab-tgt sg3-utils/lab-tgt sysfs/lab-tgt-scsi-debug; do
    rm -rf "test/fixtures/$d"; mkdir -p "test/fixtures/$(dirname "$d")"; cp -a "$tmp/$d" "test/fixtures/$d"
    cp "$tmp/RECORDED.txt" "test/fixtures/$d/RECORDED.txt"
  done
  cat "$tmp/RECORDED.txt"
fi
if [ "$what" = all ] || [ "$what" = zfs ]; then
  z=zfs/openzfs-2.1.11-lab
  [ -f "$tmp/$z/RECORDED.txt" ] || { echo "the guest recorded no OpenZFS fixtures" >&2; exit 1; }
  # README.md is written by hand (what each file is for); every recorded file is replaced
  find "test/fixtures/$z" -type f ! -name README.md -delete
  cp -a "$tmp/$z/." "test/fixtures/$z/"
  cat "$tmp/$z/RECORDED.txt"
fi
if [ "$what" = all ] || [ "$what" = nfs ]; then
  n=exportfs/lab-debian12
  [ -f "$tmp/$n/RECORDED.txt" ] || { echo "the guest recorded no exportfs fixture" >&2; exit 1; }
  rm -rf "test/fixtures/$n"; mkdir -p "test/fixtures/$n"; cp -a "$tmp/$n/." "test/fixtures/$n/"
  cat "$tmp/$n/RECORDED.txt"
fi
