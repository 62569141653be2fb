#!/bin/bash
# Re-records the tape and SCSI fixtures in the kernel lab (docs/testing.md, "Fixtures"): boots the guest once, runs
# test/lab/guest/record-fixtures.ts there (tgt's tape library through open-iscsi and the kernel's st/sg/ch drivers,
# scsi_debug disks; the real mtx, mt, tapeinfo, lsscsi, sg_inq) and replaces the recorded fixture directories under
# test/fixtures/ with what it wrote. Run from the checkout after `node scripts/build.mjs`; review with `git diff`.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/test/lab/guest/record-fixtures.js ] || { echo "build first: node scripts/build.mjs" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
scripts/lab/run.sh -t "${CALYPSO_LAB_TIMEOUT:-900}" -x "$tmp" -- node dist/test/lab/guest/record-fixtures.js /calypso-lab-run/export
[ -f "$tmp/RECORDED.txt" ] || { echo "the guest recorded nothing" >&2; exit 1; }
for d in mtx/lab-tgt mt-st/lab-tgt lsscsi/lab-tgt sg3-utils/lab-tgt sysfs/lab-tgt-scsi-debug; do
  rm -rf "test/fixtures/$d"; mkdir -p "test/fixtures/$(dirname "$d")"; cp -a "$tmp/$d" "test/fixtures/$d"
  cp "$tmp/RECORDED.txt" "test/fixtures/$d/RECORDED.txt"
done
cat "$tmp/RECORDED.txt"
