#!/bin/sh
# Production installation of a Calypso release on Debian 12 or Ubuntu 24.04 LTS.
#
#   tar -xzf calypso-X.Y.Z.tar.gz
#   sudo ./calypso-X.Y.Z/scripts/install.sh [--with-deps] [--no-start]
#
# --with-deps  install the Debian/Ubuntu packages the agent drives (see docs/install.md)
# --no-start   lay everything out but do not enable and start calypso-agent.service
#
# The work is done by `calypso-agent install` (idempotent: running this again changes nothing
# that is already right). Upgrades of an installed appliance go through `calypsoctl release
# install FILE`, not through this script.
set -eu
here=$(dirname "$(readlink -f "$0")")
release=$(dirname "$here")
with_deps=no
start=--start
for arg in "$@"; do
  case "$arg" in
    --with-deps) with_deps=yes ;;
    --no-start) start= ;;
    *) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then
  echo "install.sh: run as root" >&2
  exit 1
fi
if [ -r /etc/os-release ]; then
  . /etc/os-release
  case "${ID:-}:${VERSION_ID:-}" in
    debian:12 | ubuntu:24.04) ;;
    *) echo "install.sh: ${PRETTY_NAME:-this system} is not Debian 12 or Ubuntu 24.04; continuing" >&2 ;;
  esac
fi
if [ "$with_deps" = yes ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends openssl logrotate udev util-linux \
    smartmontools lsscsi sg3-utils mtx mt-st tgt libiscsi-bin \
    bacula-director bacula-director-sqlite3 bacula-sd bacula-fd bacula-console \
    cockpit-ws cockpit-bridge cockpit-system
  # ZFS: zfsutils-linux is in Ubuntu's main archive; on Debian 12 it is in contrib and needs
  # zfs-dkms (see docs/install.md). The agent reports ZFS as unavailable until it is there.
  if [ "${ID:-}" = ubuntu ]; then apt-get install -y -q zfsutils-linux; fi
fi
"$release/bin/calypso-agent" install $start
echo "calypso: installed release $(basename "$release"); status: systemctl status calypso-agent"
# the installer links /usr/local/bin/calypsoctl into current/bin (agent/install/plan.ts)
echo "calypso: try: calypsoctl ping; calypsoctl describe pool.create"
