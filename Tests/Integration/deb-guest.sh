#!/bin/bash
# The package test: the .deb in a clean Debian 12 guest with systemd as PID 1 (systemd-nspawn, as
# guest.sh). apt install -> the unit enabled and active on the guest's own /sys, catalog text in
# journalctl -x, man pages indexed, completions and rules in place; a local edit of the conffile
# (PrometheusFile=) kept across an upgrade to a newer build, which restarts the service; apt purge
# stops it and leaves the guest's file list as it was before the install. Run as root:
#   deb-guest.sh IOMMU-WATCH.DEB
# The guest tree (debootstrap minbase + systemd + man-db) is cached in IOMMU_WATCH_DEB_GUEST_ROOT
# (default /var/cache/iommu-watch/deb-guest-bookworm) and stays pristine (--volatile=overlay).
# Prints "deb-guest: N passed, N failed".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
deb=$(realpath "${1:?usage: deb-guest.sh IOMMU-WATCH.DEB}")
name=iwdeb$$
work=$(mktemp -d /var/tmp/iommu-watch-deb-guest.XXXXXX)
guest_root=${IOMMU_WATCH_DEB_GUEST_ROOT:-/var/cache/iommu-watch/deb-guest-bookworm}
nspawn=

# shellcheck source-path=SCRIPTDIR source=check.sh
. "$here/check.sh"  # check DESCRIPTION COMMAND...

# shellcheck source-path=SCRIPTDIR source=nspawn-guest.sh
. "$here/nspawn-guest.sh"  # nspawn_guest_cleanup, ensure_bookworm_guest
trap nspawn_guest_cleanup EXIT

ensure_bookworm_guest "$guest_root" man-db

# The newer build: the same files, a higher version (what a rebuild with a new changelog entry gives).
version=$(dpkg-deb -f "$deb" Version)
newer_version=$version+upgradetest1
mkdir -p "$work/debs"
cp "$deb" "$work/debs/old.deb"
dpkg-deb -R "$deb" "$work/newer"
sed -i "s/^Version: .*/Version: $newer_version/" "$work/newer/DEBIAN/control"
dpkg-deb --root-owner-group -b "$work/newer" "$work/debs/newer.deb" >/dev/null

for hierarchy in unified systemd; do
  mkdir -p "/sys/fs/cgroup/$hierarchy/test-$name"
  echo $$ > "/sys/fs/cgroup/$hierarchy/test-$name/cgroup.procs"
done
export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1
systemd-nspawn -b -D "$guest_root" -M "$name" --register=no --keep-unit --volatile=overlay --private-network \
  --link-journal=no --console=read-only --bind-ro="$work/debs:/opt/debs" \
  </dev/null >"$work/console.log" 2>&1 &
nspawn=$!
leader=
for _ in $(seq 300); do
  # shellcheck disable=SC2013  # children: pids separated by spaces
  for child in $(cat /proc/$nspawn/task/*/children 2>/dev/null); do
    [ "$(cat "/proc/$child/comm" 2>/dev/null)" = systemd ] && leader=$child
  done
  [ -n "$leader" ] && [ -S "/proc/$leader/root/run/systemd/private" ] && break
  sleep 0.1
done
[ -n "$leader" ] || { echo "the container did not boot"; cat "$work/console.log"; exit 1; }
guest() { nsenter -t "$leader" -m -u -i -n -p -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
in_guest() { guest sh -c "$1"; }  # in_guest 'SHELL COMMAND'
guest systemctl is-system-running --wait >/dev/null || true

# What node_exporter's package would make: the folder the unit may write its file into.
guest mkdir -p /var/lib/prometheus/node-exporter
# Every path on the guest's root but the volatile and bookkeeping ones (logs, caches, apt and dpkg's
# own records, the catalog and man-db indexes, which the package's triggers rewrite).
# shellcheck disable=SC2016  # ${Version}: dpkg-query's field, not the shell's
installed_version() { guest dpkg-query -W -f='${Version}' iommu-watch; }
files() {
  guest find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp -o -path /var/tmp \
    -o -path /var/log -o -path /var/cache -o -path /var/lib/dpkg -o -path /var/lib/apt \) -prune -o -print | sort
}
files > "$work/before"

start=$(date +%s%N)
check "apt install ./iommu-watch_${version}_*.deb succeeds" guest apt-get install -y /opt/debs/old.deb
echo "  install: $(( ($(date +%s%N) - start) / 1000000 )) ms"
check "dpkg knows iommu-watch $version" test "$(installed_version)" = "$version"
check "systemctl is-enabled iommu-watch: enabled" test "$(guest systemctl is-enabled iommu-watch)" = enabled
active=no
for _ in $(seq 50); do [ "$(guest systemctl is-active iommu-watch)" = active ] && { active=yes; break; }; sleep 0.1; done
check "systemctl is-active iommu-watch: active (the guest's own /sys)" test $active = yes
[ $active = yes ] || { guest systemctl status --no-pager iommu-watch || true; guest journalctl --no-pager -n 30 || true; }
check "journalctl -x -u iommu-watch shows the catalog text" in_guest \
  "journalctl --no-pager -x -u iommu-watch | grep -q 'iommu-watch read the IOMMU groups and is watching them'"
check "journalctl MESSAGE_ID=<started> finds the started entry" in_guest \
  "journalctl --no-pager -o json MESSAGE_ID=17f9b22b74b14f02bffb48591dc1b25b | grep -q IOMMU_WATCH_GROUPS"
check "iommu-watch status reads the running daemon's state" guest iommu-watch status
check "man iommu-watch works" in_guest "man -P cat iommu-watch 2>/dev/null | grep -q \"Watch the kernel's IOMMU groups\""
check "man iommu-watch.daemon works (the unit's Documentation=)" in_guest "man -P cat iommu-watch.daemon 2>/dev/null | grep -q 'Watch the IOMMU groups and log every change'"
check "apropos finds every page (man-db indexed them)" in_guest \
  "test \$(apropos iommu-watch | wc -l) -eq \$(ls /usr/share/man/man8/iommu-watch*.8.gz | wc -l)"
check "bash, zsh and fish completions in their places" guest test -s /usr/share/bash-completion/completions/iommu-watch \
  -a -s /usr/share/zsh/vendor-completions/_iommu-watch -a -s /usr/share/fish/vendor_completions.d/iommu-watch.fish
check "the Prometheus rules are in /usr/share/iommu-watch" guest test -s /usr/share/iommu-watch/iommu-watch.rules.yml
check "/etc/iommu-watch/iommu-watch.conf is a conffile" in_guest "dpkg-query -W -f='\${Conffiles}' iommu-watch | grep -q ' /etc/iommu-watch/iommu-watch.conf '"
check "/etc/iommu-watch/iommu-watch.conf.d/ is there" guest test -d /etc/iommu-watch/iommu-watch.conf.d

# The admin's edit: turn on the Prometheus file; reload; the hardened unit may write it there.
guest sed -i 's|^#PrometheusFile=|PrometheusFile=|' /etc/iommu-watch/iommu-watch.conf
check "systemctl reload iommu-watch takes the edited conffile" guest systemctl reload iommu-watch
prom=/var/lib/prometheus/node-exporter/iommu-watch.prom
written=no
for _ in $(seq 50); do guest test -s $prom && { written=yes; break; }; sleep 0.1; done
check "the daemon writes $prom under the unit's sandbox" test $written = yes

invocation=$(guest systemctl show -p InvocationID --value iommu-watch)
check "apt install of the newer build ($newer_version) succeeds" guest apt-get install -y /opt/debs/newer.deb
check "dpkg knows iommu-watch $newer_version" test "$(installed_version)" = "$newer_version"
check "the local edit of the conffile is kept" guest grep -q '^PrometheusFile=/var/lib/prometheus/node-exporter/iommu-watch.prom' /etc/iommu-watch/iommu-watch.conf
check "no .dpkg-new or .dpkg-dist beside it" in_guest "! ls /etc/iommu-watch | grep -q dpkg"
check "the upgrade restarted the service (a new invocation)" test "$(guest systemctl show -p InvocationID --value iommu-watch)" != "$invocation"
check "and it is active" test "$(guest systemctl is-active iommu-watch)" = active

check "apt purge iommu-watch succeeds" guest apt-get purge -y iommu-watch
check "the service is stopped" sh -c "! nsenter -t $leader -m -u -i -n -p -- systemctl is-active -q iommu-watch"
check "systemd no longer knows the unit" sh -c "! nsenter -t $leader -m -u -i -n -p -- systemctl cat iommu-watch"
check "dpkg no longer knows the package" sh -c "! nsenter -t $leader -m -u -i -n -p -- dpkg-query -W iommu-watch"
check "the catalog no longer has its entries" in_guest "! journalctl --list-catalog 2>/dev/null | grep -q 17f9b22b74b14f02bffb48591dc1b25b"
files > "$work/after"
check "the Prometheus file is gone" sh -c "! nsenter -t $leader -m -u -i -n -p -- test -e $prom"
check "purge leaves no file behind (the guest's file list as before the install)" diff "$work/before" "$work/after"
diff "$work/before" "$work/after" | head -20 || true

echo "deb-guest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
