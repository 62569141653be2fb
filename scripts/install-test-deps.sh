#!/usr/bin/env bash
# Installs the Debian packages that the test suite drives for real (see README "What is tested
# with real components"). Idempotent; needs root. Used by .ci/run and by `npm test` when run as root.
set -euo pipefail
PKGS=(
  zfs-fuse            # ZFS pools on file vdevs (issue: ZFS)
  openssh-server      # sshd on a loopback port: the transport of replication to another appliance
  smartmontools mtx mt-st lsscsi sg3-utils udev util-linux
  tgt libiscsi-bin    # iSCSI target + initiator tools
  samba smbclient libnss-wrapper libuid-wrapper libsocket-wrapper  # file shares: smbd under a prefix, cwrap accounts
  slapd ldap-utils sssd-tools  # LDAP directory for shares: a seeded slapd on loopback, ldapsearch, sssctl config-check
  acl                 # getfacl/setfacl: POSIX ACLs of share directories in the access matrix
  samba-ad-dc samba-ad-provision winbind libnss-winbind krb5-user  # a Samba AD DC in its own namespaces; net ads, kinit, klist (AD join)
  libiscsi-dev gcc libc6-dev  # the tape emulation's LD_PRELOAD library (test/tape-emu), built by the tests
  ceph-mon ceph-osd radosgw ceph-common s3cmd  # a real S3 server (RGW on a memstore OSD) for the object tests
  prometheus          # scrapes the agent's metrics endpoint in the metrics test (promtool too)
  bacula-director bacula-director-sqlite3 bacula-sd bacula-fd bacula-console sqlite3
  cockpit-ws cockpit-bridge chromium
  cockpit-system      # the Cockpit shell (navigation menu) the plugin's end-to-end tests open
  systemd             # systemd-analyze verify for the shipped units
  logrotate openssl   # logrotate --debug of the shipped config; the install's self-signed certificate
  msmtp               # the local sendmail of the notification test (relays to its SMTP server)
  qemu-system-x86 busybox-static  # the kernel lab (scripts/lab): Debian's kernel under QEMU, busybox initramfs
  make bc python3     # the kernel lab's OpenZFS module build (with gcc, above) and its vmlinux extraction
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # Debian's postinst scripts may try to start daemons; the tests start their own under a prefix.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  rm -f /usr/sbin/policy-rc.d
fi
