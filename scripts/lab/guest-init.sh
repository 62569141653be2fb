#!/bin/sh
# calypso-lab stage 2: PID 1 in the overlaid host root. Runs /calypso-lab-run/cmd.sh in the caller's directory with
# its output in /calypso-lab-run/out, stores the exit status in /calypso-lab-run/rc, powers off.
R=/calypso-lab-run
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8
read up _ < /proc/uptime; echo "$up" > $R/t-init
set -a; . $R/env; set +a
# A checkout under /tmp or /var/tmp (a CI clone may be there) stays visible at its path: its top directory is
# kept from the host's view (read-only below, the overlay's tmpfs above) across the fresh tmpfs mounted there.
KEEP=
for t in /tmp /var/tmp; do
  case "${CALYPSO_LAB_CWD:-/}" in
    "$t"/*) top=${CALYPSO_LAB_CWD#"$t"/}; KEEP="$t/${top%%/*}"; mkdir -p /calypso-lab-keep; mount --bind "$KEEP" /calypso-lab-keep;;
  esac
done
mount -t tmpfs -o mode=1777 tmpfs /tmp                      # the host's /tmp is hidden: a fresh one
mount -t tmpfs -o mode=755 tmpfs /run; mkdir -p /run/lock /run/sendsigs.omit.d
mkdir -p /dev/pts /dev/shm; mount -t devpts -o gid=5,mode=620 devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /var/tmp
if [ -n "$KEEP" ]; then mkdir -p "$KEEP"; mount --move /calypso-lab-keep "$KEEP"; fi
modprobe configfs 2>/dev/null; mount -t configfs configfs /sys/kernel/config 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
hostname calypso-lab; ip link set lo up
# udevd: module autoload for new devices (sd_mod/sg/st), /dev/zvol and /dev/disk/by-* links.
# No coldplug trigger: it costs ~10 s under TCG, and the devices that matter appear after boot.
[ "${CALYPSO_LAB_UDEV:-1}" = 1 ] && /lib/systemd/systemd-udevd --daemon --resolve-names=never 2>/dev/null
cd "${CALYPSO_LAB_CWD:-/}" 2>/dev/null || cd /
read up _ < /proc/uptime; echo "$up" > $R/t-cmd
sh -c ". $R/cmd.sh" </dev/null >$R/out 2>&1
echo $? > $R/rc
read up _ < /proc/uptime; echo "$up" > $R/t-end
sync; echo o > /proc/sysrq-trigger; while :; do sleep 1 2>/dev/null; done
