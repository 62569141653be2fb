# Helpers for commands run in the lab guest:  . "$CALYPSO_LAB_SRC/guest-lib.sh"
# The guest's / is an overlay on a tmpfs: everything here changes the guest only, never the host.

# system D-Bus (targetcli-fb asks tcmu-runner over it and dies without a bus)
lab_dbus() {
  [ -S /run/dbus/system_bus_socket ] && return 0
  mkdir -p /run/dbus; dbus-daemon --system --fork
}

# open-iscsi's iscsid with the iscsi_tcp transport (the kernel initiator)
lab_iscsid() {
  modprobe iscsi_tcp || return 1
  mkdir -p /run/lock/iscsi /var/lib/iscsi /etc/iscsi/nodes /etc/iscsi/send_targets
  pidof iscsid >/dev/null || iscsid || return 1
  for _ in 1 2 3 4 5 6 7 8 9 10; do iscsiadm -m session >/dev/null 2>&1; [ $? -ne 4 ] && return 0; sleep 0.3; done
}

# wait until a path exists (udev makes device nodes asynchronously): lab_wait PATH [TENTHS]
lab_wait() {
  n=${2:-100}
  while [ ! -e "$1" ] && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
  [ -e "$1" ]
}

# kernel nfsd serving v3 and v4.x (grace lowered to 10 s), rpcbind, statd, mountd. Exports: /etc/exports of the
# guest; export tmpfs or ext4 directories (overlayfs, the guest's /, is not NFS-exportable). Again after an
# `rpc.nfsd 0` (another file of the same boot): the daemons still running are kept, nfsd is started anew.
lab_nfsd() {
  modprobe nfsd || return 1
  mountpoint -q /proc/fs/nfsd || mount -t nfsd nfsd /proc/fs/nfsd
  mkdir -p /run/rpc_pipefs; mountpoint -q /run/rpc_pipefs || mount -t rpc_pipefs sunrpc /run/rpc_pipefs
  for u in _rpc statd; do   # system users from postinst scripts that never ran on the host (guest overlay only)
    grep -q "^$u:" /etc/passwd || useradd --system --no-create-home --home-dir /run/$u --shell /usr/sbin/nologin $u
  done
  mkdir -p /run/rpcbind /var/lib/nfs/sm /var/lib/nfs/sm.bak; chown statd /var/lib/nfs/sm /var/lib/nfs/sm.bak
  { pidof rpcbind >/dev/null || rpcbind -w; } && { pidof rpc.statd >/dev/null || rpc.statd; } || return 1
  echo 10 > /proc/fs/nfsd/nfsv4gracetime; echo 10 > /proc/fs/nfsd/nfsv4leasetime
  exportfs -ra && { pidof rpc.mountd >/dev/null || rpc.mountd; } && rpc.nfsd 4
}
