#!/bin/bash
# Stage "layer": the guest-only overlay layer $LAB/layer. Debian packages the guest needs but the host must not get
# ($GUEST_PKGS + zfsutils-linux from contrib) are downloaded and unpacked, never installed. apt runs with a private
# state under $LAB/apt (its own sources with contrib, its own lists): the host's /etc/apt and lists are not touched.
set -euo pipefail
. "$LABSRC/common.sh"
A=$LAB/apt; rm -rf "$A"; mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
# the host's Debian sources (deb.debian.org), with contrib added
cat > "$A/sources.list" <<SRC
deb http://deb.debian.org/debian bookworm main contrib
deb http://deb.debian.org/debian bookworm-updates main contrib
deb http://deb.debian.org/debian-security bookworm-security main contrib
SRC
APT=(-o "Dir::Etc::SourceList=$A/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$A/lists"
     -o "Dir::Cache=$A/cache" -o Debug::NoLocking=1)
apt-get "${APT[@]}" update -q
D=$LAB/debs-guest; rm -rf "$D"; mkdir -p "$D"; cd "$D"
# dependency closure relative to what the host already has (the guest sees the host's root under this layer).
# Per package, then merged: host conflicts (zfs-fuse) do not matter, nothing is installed.
DL=$(for p in $GUEST_PKGS "zfsutils-linux=$ZFS_VERSION"; do
       apt-get "${APT[@]}" install -s --no-install-recommends "$p" | awk '/^Inst /{print $2}'; done | sort -u)
apt-get "${APT[@]}" download $DL "zfs-dkms=$ZFS_VERSION"   # zfs-dkms only for its source tree (stage zfs)
L=$LAB/layer; rm -rf "$L"; mkdir -p "$L"
for d in *.deb; do case $d in zfs-dkms_*) continue;; esac; dpkg-deb -x "$d" "$L"; done
# the host is merged-/usr: a real /bin directory in an upper layer would hide the host's /bin -> usr/bin link
for t in bin sbin lib lib64; do
  if [ -d "$L/$t" ] && [ ! -L "$L/$t" ]; then mkdir -p "$L/usr/$t"; cp -a "$L/$t/." "$L/usr/$t/"; rm -rf "$L/$t"; fi
done
# the kernel's modules (hard links: no extra space), depmod by the unpacked kmod (the host has no kmod)
mkdir -p "$L/usr/lib/modules"; cp -al "$LAB/kroot/lib/modules/$KV" "$L/usr/lib/modules/$KV"
rm -f "$L/usr/lib/modules/$KV/build" "$L/usr/lib/modules/$KV/source"
ln -sfn "$L/usr/bin/kmod" "$LAB/depmod"; ln -sfn "$L/usr/bin/kmod" "$LAB/modprobe"   # kmod picks its applet by argv[0]
"$LAB/depmod" -b "$L/usr" "$KV"
# what the packages' postinst scripts would have done and the guest needs
mkdir -p "$L/etc/iscsi" "$L/var/lib/nfs/rpc_pipefs" "$L/var/lib/nfs/v4recovery" "$L/var/lib/iscsi"
echo "InitiatorName=iqn.1993-08.org.debian:01:calypsolab" > "$L/etc/iscsi/initiatorname.iscsi"
[ -e "$L/etc/exports" ] || : > "$L/etc/exports"
for f in etab rmtab; do : > "$L/var/lib/nfs/$f"; done
ls "$D" > "$LAB/packages"
du -sh "$L"
