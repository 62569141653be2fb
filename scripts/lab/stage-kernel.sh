#!/bin/bash
# Stage "kernel": Debian's kernel image + headers + kbuild, downloaded (never installed) and unpacked into $LAB/kroot;
# $LAB/vmlinux is the uncompressed kernel (PVH entry): under TCG it saves the ~4 s xz decompression at every boot.
set -euo pipefail
. "$LABSRC/common.sh"
KROOT=$LAB/kroot
rm -rf "$LAB/debs-kernel" "$KROOT"; mkdir -p "$LAB/debs-kernel" "$KROOT"
cd "$LAB/debs-kernel"
apt-get download "linux-image-$KV" "linux-headers-$KV" "linux-headers-${KV%-amd64}-common" "$KBUILD_PKG"
for d in *.deb; do dpkg-deb -x "$d" "$KROOT"; done
KDIR=$KROOT/usr/src/linux-headers-$KV
# the -amd64 headers' Makefile includes the -common tree by an absolute /usr/src path: point it into kroot
sed -i "s#/usr/src/#$KROOT/usr/src/#g" "$KDIR/Makefile"
ln -sfn "$KDIR" "$KROOT/lib/modules/$KV/build"
ln -sfn "$KROOT/usr/src/linux-headers-${KV%-amd64}-common" "$KROOT/lib/modules/$KV/source"
python3 - "$KROOT/boot/vmlinuz-$KV" "$LAB/vmlinux" <<'PY'
import lzma, sys
d = open(sys.argv[1], 'rb').read(); i = d.find(b'\xfd7zXZ\x00')
open(sys.argv[2], 'wb').write(lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(d[i:]))
PY
ls -la "$KROOT/boot" "$LAB/vmlinux"
