#!/bin/bash
# Usage: scripts/lab/build.sh   — build (once) the kernel lab for this machine's key; prints its directory.
# Safe to call concurrently from any checkout: one builder per key under flock, the others wait and reuse.
# Stages (each resumable; times of the cold build land in $LAB/times):
#   kernel     apt-get download + dpkg-deb -x of Debian's linux-image/headers/kbuild; uncompressed vmlinux
#   layer      guest-only Debian packages unpacked into a layer (apt with a private state: contrib for ZFS)
#   zfs        OpenZFS kernel modules built from Debian contrib's zfs-dkms source against the unpacked headers
#   initramfs  busybox-static + the modules to reach the host root over virtio-9p
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_build_tools
[ "$(id -u)" = 0 ] || die "building the lab needs root (apt-get download with a private state, /var/cache)"
LAB=$(lab_dir)
mkdir -p "$CACHE_ROOT"
exec 9>"$LAB.lock"
if ! flock -n 9; then log "another process is building $LAB; waiting"; flock 9; fi
if [ -e "$LAB/ready" ]; then echo "$LAB"; exit 0; fi
mkdir -p "$LAB"
export LAB KV KBUILD_PKG ZFS_VERSION GUEST_PKGS LABSRC
T0=$(now)
for stage in kernel layer zfs initramfs; do
  if [ -e "$LAB/done-$stage" ]; then continue; fi
  t=$(now); log "stage $stage ..."
  bash "$LABSRC/stage-$stage.sh" > "$LAB/$stage.log" 2>&1 || { tail -30 "$LAB/$stage.log" >&2; die "stage $stage failed (log: $LAB/$stage.log)"; }
  d=$(secs "$t" "$(now)"); echo "$stage $d" >> "$LAB/times"; touch "$LAB/done-$stage"
  log "stage $stage: ${d} s"
done
echo "total $(secs "$T0" "$(now)")" >> "$LAB/times"
du -sh "$LAB" | awk '{print "size " $1}' >> "$LAB/times"
touch "$LAB/ready"
log "lab ready in $LAB: $(tr '\n' ' ' < "$LAB/times")"
echo "$LAB"
