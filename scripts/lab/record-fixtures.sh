#!/bin/bash
# Usage: scripts/lab/record-fixtures.sh [all|tape|zfs]   (default all, in ONE guest boot)
# Re-records fixtures in the kernel lab (docs/testing.md, "Fixtures"): boots the guest once and runs there
# - tape: test/lab/guest/record-fixtures.ts (tgt's tape library through open-iscsi and the kernel's st/sg/ch drivers,
#   scsi_debug disks; the real mtx, mt, tapeinfo, lsscsi, sg_inq);
# - zfs: test/lab/guest/record-openzfs.ts (OpenZFS 2.1 from Debian contrib's zfs-dkms: pools on files, every pool state
#   the parser tests read, zvol, encryption, a resume token);
# then replaces the recorded fixture directories under test/fixtures/ with what it wrote. Run from the checkout after
# `node scripts/build.mjs`; review with `git diff`.
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:-all}
case $what in all|tape|zfs) ;; *) echo "usage: $0 [all|tape|zfs]" >&2; exit 2;; esac
for f in record-fixtures record-openzfs; do
  [ -f "dist/test/lab/guest/$f.js" ] || { echo "build first: node scripts/build.mjs" >&2; exit 2; }
done
cmd=()
[ "$what" = zfs ] || cmd+=("node dist/test/lab/guest/record-fixtures.js /calypso-lab-run/export")
[ "$what" = tape ] || cmd+=("node dist/test/lab/guest/record-openzfs.js /calypso-lab-run/export")
joined=$(printf '%s && ' "${cmd[@]}"); joined=${joined% && }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
scripts/lab/run.sh -t "${CALYPSO_LAB_TIMEOUT:-1500}" -x "$tmp" -- "$joined"
if [ "$what" != zfs ]; then
  [ -f "$tmp/RECORDED.txt" ] || { echo "the guest recorded no tape fixtures" >&2; exit 1; }
  for d in mtx/lab-tgt mt-st/lab-tgt lsscsi/lab-tgt sg3-utils/lab-tgt sysfs/lab-tgt-scsi-debug; do
    rm -rf "test/fixtures/$d"; mkdir -p "test/fixtures/$(dirname "$d")"; cp -a "$tmp/$d" "test/fixtures/$d"
    cp "$tmp/RECORDED.txt" "test/fixtures/$d/RECORDED.txt"
  done
  cat "$tmp/RECORDED.txt"
fi
if [ "$what" != tape ]; then
  z=zfs/openzfs-2.1.11-lab
  [ -f "$tmp/$z/RECORDED.txt" ] || { echo "the guest recorded no OpenZFS fixtures" >&2; exit 1; }
  # README.md is written by hand (what each file is for); every recorded file is replaced
  find "test/fixtures/$z" -type f ! -name README.md -delete
  cp -a "$tmp/$z/." "test/fixtures/$z/"
  cat "$tmp/$z/RECORDED.txt"
fi
