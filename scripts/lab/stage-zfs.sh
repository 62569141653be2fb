#!/bin/bash
# Stage "zfs": OpenZFS kernel modules (spl, zfs) from Debian contrib's zfs-dkms source, built without dkms against
# the unpacked headers, stripped of debug info and installed into the layer's updates/. Userland: zfsutils-linux (layer).
set -euo pipefail
. "$LABSRC/common.sh"
KROOT=$LAB/kroot
DEB=$(ls "$LAB"/debs-guest/zfs-dkms_*.deb | head -1)
W=$LAB/zfs-src; rm -rf "$W"; mkdir -p "$W"; dpkg-deb -x "$DEB" "$W"
S=$(ls -d "$W"/usr/src/zfs-* | head -1)
t0=$(now)
( cd "$S" && ./configure --prefix=/usr --with-config=kernel \
    --with-linux="$KROOT/lib/modules/$KV/source" --with-linux-obj="$KROOT/lib/modules/$KV/build" )
t1=$(now)
make -C "$S" -j"$(nproc)"
t2=$(now)
M=$LAB/layer/usr/lib/modules/$KV/updates/zfs; rm -rf "$M"; mkdir -p "$M"
find "$S/module" -name '*.ko' -exec install -m 644 {} "$M/" \;
find "$M" -name '*.ko' -exec strip --strip-debug {} +
"$LAB/depmod" -b "$LAB/layer/usr" "$KV"
rm -rf "$W"
echo "zfs: configure $(secs "$t0" "$t1") s, make $(secs "$t1" "$t2") s"; ls -la "$M"
