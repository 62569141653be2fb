#!/bin/sh
# Runs as root in the kernel lab guest (bench/iscsi-lio.ts): the same 128 MiB backing (a loop device on a tmpfs
# file) read and written sequentially with O_DIRECT (dd, 1 MiB) three ways: directly, through LIO (iblock, configured
# by configfs writes) and through tgtd (user space), both over loopback with open-iscsi. Prints "BENCH <name> <MB/s>".
set -u
MB=${BENCH_MB:-128}
C=/sys/kernel/config/target
IQN_L=iqn.2026-12.org.calypso.bench:lio
IQN_T=iqn.2026-12.org.calypso.bench:tgt
modprobe -a loop target_core_mod iscsi_target_mod target_core_iblock iscsi_tcp || exit 1
truncate -s ${MB}M /tmp/back.img
DEV=$(losetup -f --show /tmp/back.img) || exit 1
dd if=/dev/urandom of=$DEV bs=1M count=$MB oflag=direct 2>/dev/null
rate() { awk '/copied/{for(i=1;i<=NF;i++) if($i ~ /^s,?$/) {t=$(i-1)}} END{printf "%.1f\n", '$MB'*1.048576/t}'; }
bench() { # name device
  w=$(dd if=/dev/zero of=$2 bs=1M count=$MB oflag=direct 2>&1 | rate)
  r=$(dd if=$2 of=/dev/null bs=1M count=$MB iflag=direct 2>&1 | rate)
  echo "BENCH $1-write $w"; echo "BENCH $1-read $r"
}
disk_of() { # target iqn -> /dev/sdX
  for _ in $(seq 1 100); do
    d=$(iscsiadm -m session -P 3 2>/dev/null | awk -v t="$1" '/^Target:/{on=($2==t)} on && /Attached scsi disk/{print $4; exit}')
    [ -n "$d" ] && [ -b /dev/$d ] && { echo /dev/$d; return 0; }
    sleep 0.2
  done
  return 1
}
bench direct $DEV
# LIO: iblock on the loop device, demo mode, portal 127.0.0.1:3260
mkdir -p $C/core/iblock_0/b0
printf 'udev_path=%s' $DEV > $C/core/iblock_0/b0/control; printf 1 > $C/core/iblock_0/b0/enable
mkdir -p $C/iscsi/$IQN_L/tpgt_1/np/127.0.0.1:3260 $C/iscsi/$IQN_L/tpgt_1/lun/lun_0
ln -s $C/core/iblock_0/b0 $C/iscsi/$IQN_L/tpgt_1/lun/lun_0/b0
for a in authentication=0 generate_node_acls=1 cache_dynamic_acls=1 demo_mode_write_protect=0; do
  printf %s ${a#*=} > $C/iscsi/$IQN_L/tpgt_1/attrib/${a%=*}; done
printf 1 > $C/iscsi/$IQN_L/tpgt_1/enable
mkdir -p /run/lock/iscsi /var/lib/iscsi /etc/iscsi/nodes /etc/iscsi/send_targets; iscsid; sleep 1
iscsiadm -m discovery -t st -p 127.0.0.1:3260 >/dev/null && iscsiadm -m node -T $IQN_L -p 127.0.0.1:3260 --login >/dev/null
D=$(disk_of $IQN_L) && bench lio $D
iscsiadm -m node -T $IQN_L -p 127.0.0.1:3260 --logout >/dev/null
# tgtd: the same loop device (rdwr backing store), portal 127.0.0.1:3261
tgtd --iscsi portal=127.0.0.1:3261 -C 1; sleep 1
tgtadm -C 1 --lld iscsi --mode target --op new --tid 1 --targetname $IQN_T
tgtadm -C 1 --lld iscsi --mode logicalunit --op new --tid 1 --lun 1 --backing-store $DEV
tgtadm -C 1 --lld iscsi --mode target --op bind --tid 1 --initiator-address ALL
iscsiadm -m discovery -t st -p 127.0.0.1:3261 >/dev/null && iscsiadm -m node -T $IQN_T -p 127.0.0.1:3261 --login >/dev/null
D=$(disk_of $IQN_T) && bench tgt $D
iscsiadm -m node -T $IQN_T -p 127.0.0.1:3261 --logout >/dev/null
tgtadm -C 1 --op delete --mode system --force 2>/dev/null; iscsiadm -k 0 2>/dev/null
echo BENCH-DONE
