#!/bin/bash
# Usage: scripts/lab/run.sh [-m MB] [-s CPUS] [-t SECONDS] [-e VAR=VALUE]... [-x HOSTDIR] [--] 'shell command'
# Boots Debian's kernel under QEMU with the host's root (read-only, 9p) under the guest layer and a tmpfs, runs the
# command as root in the caller's directory (so a checkout is visible at the same path; the host's /tmp is not),
# prints its output on stdout and exits with its status: 124 on timeout, 125 if the guest never reported one.
# -x HOSTDIR: what the command left in /calypso-lab-run/export (e.g. recorded outputs) is copied to HOSTDIR.
# Builds the lab first when this machine's key has none (cached, see build.sh). Timings go to stderr.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_host_tools
MEM=${CALYPSO_LAB_MEM:-2048} SMP=${CALYPSO_LAB_SMP:-2} TIMEOUT=${CALYPSO_LAB_TIMEOUT:-600} ENVS=() EXPORT=
while getopts m:s:t:e:x: o; do
  case $o in m) MEM=$OPTARG;; s) SMP=$OPTARG;; t) TIMEOUT=$OPTARG;; e) ENVS+=("$OPTARG");; x) EXPORT=$OPTARG;; *) exit 2;; esac
done
shift $((OPTIND-1))
[ $# -gt 0 ] || die "usage: run.sh [-m MB] [-s CPUS] [-t SECONDS] [-e VAR=VALUE]... [--] 'command'"
if [ -n "${CALYPSO_LAB_DIR:-}" ]; then LAB=$CALYPSO_LAB_DIR   # a given lab directory, used as it is
else LAB=$(lab_dir); [ -e "$LAB/ready" ] || LAB=$("$LABSRC/build.sh"); fi
RUN=$(mktemp -d "${TMPDIR:-/tmp}/calypso-lab-run.XXXXXX"); trap 'rm -rf "$RUN"' EXIT
printf '%s\n' "$*" > "$RUN/cmd.sh"
cp "$LABSRC/guest-init.sh" "$RUN/guest-init.sh"; mkdir "$RUN/export"
{ printf 'CALYPSO_LAB_CWD=%q\n' "$PWD"; printf 'CALYPSO_LAB_SRC=%q\n' "$LABSRC"
  for e in "${ENVS[@]+"${ENVS[@]}"}"; do printf '%s=%q\n' "${e%%=*}" "${e#*=}"; done; } > "$RUN/env"
# Real KVM only with VMX/SVM. A PVM /dev/kvm (kvm_pvm, these cloud VMs) cannot run a stock kernel: TCG then.
if [ -z "${CALYPSO_LAB_ACCEL:-}" ]; then
  if [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
    CALYPSO_LAB_ACCEL="-enable-kvm -cpu host"
  else CALYPSO_LAB_ACCEL="-accel tcg,thread=multi,tb-size=256 -cpu max"; fi
fi
T0=$(now)
set +e
# no_timer_check: on a loaded host the IO-APIC timer check under TCG can fail and panic the boot.
# oops=panic: a kernel oops ends the guest at once (panic=-1 and -no-reboot: QEMU exits) instead of leaving it
# wedged until the timeout (CI run 20: iscsi_tcp oopsed in iscsi_sw_tcp_release_conn after a refused CHAP login,
# and the guest sat idle for 20 minutes)
# shellcheck disable=SC2086
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 $CALYPSO_LAB_ACCEL -m "$MEM" -smp "$SMP" -nodefaults -display none \
  -serial "file:$RUN/console" -no-reboot -kernel "$LAB/vmlinux" -initrd "$LAB/initramfs.cpio.gz" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 oops=panic no_timer_check ${CALYPSO_LAB_APPEND:-}" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs "local,path=$LAB/layer,mount_tag=layer,security_model=none,readonly=on" \
  -virtfs "local,path=$RUN,mount_tag=labrun,security_model=none" -nic none </dev/null
qrc=$?
set -e
cat "$RUN/out" 2>/dev/null || true
if [ -n "$EXPORT" ]; then mkdir -p "$EXPORT"; cp -r "$RUN/export/." "$EXPORT/"; fi
if [ -f "$RUN/rc" ]; then rc=$(cat "$RUN/rc"); elif [ $qrc = 124 ]; then rc=124; else rc=125; fi
# the first line of a kernel oops or panic, said in one line (test/lab/guest.ts boots again once after it)
crash=$(grep -m1 -E 'BUG: |Oops|Kernel panic|RIP: ' "$RUN/console" 2>/dev/null || true)
if [ -n "$crash" ] && [ "$rc" = 125 ]; then
  log "the guest kernel crashed: $(grep -m1 -E 'RIP: ' "$RUN/console" | sed 's/^\[[^]]*\] *//' || true) (${crash#*] })"
fi
if [ "$rc" = 124 ] || [ "$rc" = 125 ] || [ -n "${CALYPSO_LAB_CONSOLE:-}" ]; then
  log "guest console (last 40 lines):"; tail -40 "$RUN/console" >&2 || true
fi
[ "$rc" = 124 ] && log "timed out after ${TIMEOUT} s"
log "wall $(secs "$T0" "$(now)") s; guest uptime at stage 2 $(cat "$RUN/t-init" 2>/dev/null || echo -)s, at command $(cat "$RUN/t-cmd" 2>/dev/null || echo -)s, at end $(cat "$RUN/t-end" 2>/dev/null || echo -)s; rc $rc"
exit "$rc"
