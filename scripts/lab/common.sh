# Kernel lab: shared settings and helpers (sourced by the other scripts/lab/*.sh).
# The lab's output is cached OUTSIDE the checkout, in $CALYPSO_LAB_CACHE (default /var/cache/calypso-lab),
# one directory per key (kernel ABI + package versions + recipe version), so every checkout of the project
# shares one built lab and a recipe or package change builds a new one beside it.
LABSRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_FORMAT=1                               # bump when a stage's recipe changes (the key changes, a new lab is built)
KV=${CALYPSO_LAB_KV:-6.1.0-57-amd64}       # Debian bookworm kernel ABI
KBUILD_PKG=linux-kbuild-6.1
ZFS_VERSION=${CALYPSO_LAB_ZFS_VERSION:-2.1.11-1+deb12u1}   # Debian contrib: zfs-dkms (module source) + zfsutils-linux
# guest-only packages (downloaded and unpacked into the guest layer, never installed on the host)
GUEST_PKGS="kmod open-iscsi targetcli-fb python3-dbus nfs-kernel-server nfs-common rpcbind samba cifs-utils dbus"
CACHE_ROOT=${CALYPSO_LAB_CACHE:-/var/cache/calypso-lab}

die() { echo "calypso-lab: $*" >&2; exit 1; }
log() { echo "calypso-lab: $*" >&2; }

# need CMD PACKAGE: fail (never skip) naming the Debian package that provides a missing tool
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is missing: apt-get install -y --no-install-recommends $2"; }

need_host_tools() {
  need qemu-system-x86_64 qemu-system-x86
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
    die "a static busybox is missing: apt-get install -y --no-install-recommends busybox-static"
  need flock util-linux
}

need_build_tools() {
  need_host_tools
  need apt-get apt; need dpkg-deb dpkg; need python3 python3; need make make; need gcc gcc; need strip binutils
}

# The key: kernel ABI, the archive's versions of the kernel and guest packages, the pinned ZFS version, recipe format.
lab_key() {
  local pol sum
  pol=$(apt-cache policy "linux-image-$KV" $GUEST_PKGS 2>/dev/null | awk '/^[^ ]/{p=$1} /Candidate:/{print p $2}')
  [ -n "$pol" ] || die "apt-cache knows no linux-image-$KV (run apt-get update)"
  sum=$(printf '%s\n' "$pol" "$ZFS_VERSION" "$LAB_FORMAT" | md5sum | cut -c1-10)
  echo "${KV}-zfs${ZFS_VERSION%%-*}-${sum}"
}

lab_dir() { echo "$CACHE_ROOT/$(lab_key)"; }

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
