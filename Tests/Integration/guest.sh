#!/bin/bash
# The guest test: the daemon under a real systemd — PID 1 of a systemd-nspawn container on the
# host kernel (testbed.md §5b), with a real capture bound in as its root. `make install` (into a
# DESTDIR that the guest copies to /), then systemctl start/reload/stop, journalctl -u, MESSAGE_ID=,
# IOMMU_GROUP=, -x (catalog text), a change seen within 5 s, and a stuck loop killed by the watchdog
# and restarted. Run as root. Prints "guest: N passed, N failed".
# IOMMU_WATCH_GUEST_ROOT=DIR reuses a debootstrapped tree (it stays pristine: --volatile=overlay).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
name=iwguest$$
work=$(mktemp -d /var/tmp/iommu-watch-guest.XXXXXX)
guest_root=${IOMMU_WATCH_GUEST_ROOT:-$work/os}
nspawn=

. "$here/check.sh"  # check DESCRIPTION COMMAND...

# shellcheck source-path=SCRIPTDIR source=nspawn-guest.sh
. "$here/nspawn-guest.sh"  # nspawn_guest_cleanup, ensure_bookworm_guest
trap nspawn_guest_cleanup EXIT

ensure_bookworm_guest "$guest_root"

# What `make install` puts on a machine, staged; the guest copies it to / and updates the catalog.
make -s -C "$project" install DESTDIR="$work/stage" PREFIX=/usr SYSCONFDIR=/etc >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
python3 -c "import sys; sys.path.insert(0, '$here'); import harness; harness.writable_capture('$work/capture')"
capture=$work/capture/root
mkdir -p "$work/stage/etc/systemd/system/iommu-watch.service.d" "$work/stage/etc/iommu-watch/iommu-watch.conf.d"
cat > "$work/stage/etc/systemd/system/iommu-watch.service.d/test.conf" <<CONF
[Service]
ExecStart=
ExecStart=/usr/bin/iommu-watch daemon --root /opt/capture
# Test-only: SIGUSR1 makes the loop hang so the watchdog must act.
Environment=IOMMU_WATCH_TEST_STALL_ON_SIGUSR1=1
WatchdogSec=3s
RestartSec=1s
CONF
printf '[Daemon]\nRescanIntervalSec=1s\n' > "$work/stage/etc/iommu-watch/iommu-watch.conf.d/test.conf"

# nspawn --keep-unit makes payload/ and supervisor/ cgroups inside ours: give ourselves one.
for hierarchy in unified systemd; do
  mkdir -p "/sys/fs/cgroup/$hierarchy/test-$name"
  echo $$ > "/sys/fs/cgroup/$hierarchy/test-$name/cgroup.procs"
done
export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1
systemd-nspawn -b -D "$guest_root" -M "$name" --register=no --keep-unit --volatile=overlay --private-network \
  --link-journal=no --console=read-only --bind-ro="$work/stage:/opt/stage" --bind="$capture:/opt/capture" \
  </dev/null >"$work/console.log" 2>&1 &
nspawn=$!
leader=
for _ in $(seq 300); do
  for child in $(cat /proc/$nspawn/task/*/children 2>/dev/null); do
    [ "$(cat /proc/$child/comm 2>/dev/null)" = systemd ] && leader=$child
  done
  [ -n "$leader" ] && [ -S "/proc/$leader/root/run/systemd/private" ] && break
  sleep 0.1
done
[ -n "$leader" ] || { echo "the container did not boot"; cat "$work/console.log"; exit 1; }
guest() { nsenter -t "$leader" -m -u -i -n -p -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
guest systemctl is-system-running --wait >/dev/null || true

guest sh -c 'cp -a /opt/stage/. / && journalctl --update-catalog && systemctl daemon-reload'
start=$(date +%s%N)
check "systemctl start iommu-watch (Type=notify) succeeds" guest systemctl start iommu-watch
echo "  start to active: $(( ($(date +%s%N) - start) / 1000000 )) ms"
check "the unit is active" test "$(guest systemctl is-active iommu-watch)" = active
if [ "$(guest systemctl is-active iommu-watch)" != active ]; then
  guest systemctl status --no-pager iommu-watch || true
  guest journalctl --no-pager -n 40 || true
fi
check "systemd has our STATUS=" sh -c "nsenter -t $leader -m -u -i -n -p -- systemctl show -p StatusText --value iommu-watch | grep -q '10 groups, '"
check "iommu-watch status reads the state file" guest /usr/bin/iommu-watch status
journal() { guest journalctl --no-pager "$@"; }
check "journalctl -u iommu-watch shows the summary" sh -c "$(declare -f guest journal); leader=$leader; journal -u iommu-watch | grep -q 'Watching 10 IOMMU groups'"
check "journalctl MESSAGE_ID=<started> answers" sh -c "$(declare -f guest journal); leader=$leader; journal -o json MESSAGE_ID=17f9b22b74b14f02bffb48591dc1b25b | grep -q IOMMU_WATCH_ROOT"
check "journalctl -x shows the catalog text" sh -c "$(declare -f guest journal); leader=$leader; journal -x -u iommu-watch | grep -q 'iommu-watch read the IOMMU groups and is watching them'"

# A change on the bound root (no uevent: the periodic rescan) shows within 5 s.
python3 -c "import sys; sys.path.insert(0, '$here'); import harness; harness.set_type('$capture', 3, 'identity')"
seen=no
for _ in $(seq 50); do
  journal -o cat IOMMU_GROUP=3 2>/dev/null | grep -q 'from DMA-FQ to identity' && { seen=yes; break; }
  sleep 0.1
done
check "journalctl IOMMU_GROUP=3 shows the type change within 5 s" test $seen = yes

check "systemctl reload iommu-watch succeeds" guest systemctl reload iommu-watch
check "reload is logged and the unit stays active" sh -c "$(declare -f guest journal); leader=$leader; journal -u iommu-watch | grep -q 'Reloaded the configuration' && test \"\$(guest systemctl is-active iommu-watch)\" = active"

# A stuck loop: no more WATCHDOG=1, so systemd kills it (SIGABRT) and Restart=on-failure brings it back.
. "$here/watchdog-restart.sh"
restarted=no
watchdog_restart 15 guest systemctl && restarted=yes
check "a stuck loop is killed by the watchdog and restarted" test $restarted = yes
check "the journal names the watchdog" sh -c "$(declare -f guest journal); leader=$leader; journal -u iommu-watch | grep -qi 'watchdog timeout'"

check "systemctl stop iommu-watch succeeds" guest systemctl stop iommu-watch
check "stopped cleanly (Result=success, status 0)" sh -c "$(declare -f guest); leader=$leader; test \"\$(guest systemctl show -p Result --value iommu-watch)\" = success && test \"\$(guest systemctl show -p ExecMainStatus --value iommu-watch)\" = 0"

echo "systemd-analyze security --offline=yes (installed unit):"
systemd-analyze security --offline=yes "$work/stage/usr/lib/systemd/system/iommu-watch.service" 2>&1 | tail -1
echo "guest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
