#!/bin/bash
# Stage "initramfs": busybox-static + the modules that reach the host root over virtio-9p and overlay it + init.
set -euo pipefail
. "$LABSRC/common.sh"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
mkdir -p "$W"/{bin,modules,proc,sys,dev,host,layer,rw,newroot}
cp /bin/busybox "$W/bin/busybox"
for m in virtio_pci 9pnet_virtio 9p overlay; do
  "$LAB/modprobe" -d "$LAB/layer/usr" -S "$KV" --show-depends $m | awk '$1=="insmod"{print $2}'
done | awk '!seen[$0]++' | while read -r ko; do cp "$ko" "$W/modules/"; basename "$ko" >> "$W/modules.list"; done
cp "$LABSRC/init" "$W/init"; chmod +x "$W/init"
(cd "$W" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$LAB/initramfs.cpio.gz"
ls -la "$LAB/initramfs.cpio.gz"; tr '\n' ' ' < "$W/modules.list"; echo
