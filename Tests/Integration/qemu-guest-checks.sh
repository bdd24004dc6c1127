#!/bin/bash
# Runs inside the QEMU guest of Tests/Integration/qemu-guest.sh, as a oneshot unit whose output goes
# to the serial console. Talks to the host through markers on that console:
#   @@QG ready            iommu-watch is active: the host may send device_add
#   @@QG added-checked    the add was checked: the host may send device_del
#   @@QG BEGIN / @@QG END the results ("  ok   …" / "  FAIL …" lines and "guest: N passed, N failed")
# then powers the guest off. Every wait has a timeout, so the host never waits on a hung guest.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin SYSTEMD_PAGER= SYSTEMD_COLORS=0
started_id=17f9b22b74b14f02bffb48591dc1b25b
added_id=0ece78eb7b234c34b919faba7e13c7c7
removed_id=2de160759f7047a587dbf43ea0f58558
limit_us=5000000
CHECK_PREFIX="check: "
. /usr/local/libexec/iommu-watch-check.sh  # Tests/Integration/check.sh, installed by qemu-guest.sh

marker() { echo "@@QG $*"; }
note() { check_lines+=("       $*"); echo "note: $*"; }
now_us() { date +%s%6N; }
journal() { journalctl --no-pager "$@" 2>/dev/null; }
# The __MONOTONIC_TIMESTAMP (µs; journald stamps it with __REALTIME_TIMESTAMP on receipt) of the
# first entry matching the journalctl arguments, polled for up to 15 s; empty when none came.
first_entry_us() {
  local until=$(( $(now_us) + 15000000 )) ts
  while :; do
    ts=$(journal -o export "$@" | awk -F= '/^__MONOTONIC_TIMESTAMP=/ {print $2; exit}')
    [ -n "$ts" ] && { echo "$ts"; return 0; }
    [ "$(now_us)" -gt "$until" ] && return 1
    sleep 0.05
  done
}
# The time (CLOCK_MONOTONIC µs) udevadm received the kernel's uevent ACTION for a PCI device, polled
# for up to $2 s; prints "µs slot". udevadm prints "KERNEL[<s>.<µs>] add /devices/…/0000:01:00.0 (pci)".
uevent_us() { # action, seconds[, slot]
  local until=$(( $(now_us) + $2 * 1000000 )) line
  while :; do
    line=$(awk -v action="$1" -v slot="${3:-}" '$1 ~ /^KERNEL\[/ && $2 == action && $4 == "(pci)" {
        n = split($3, path, "/"); if (slot != "" && path[n] != slot) next
        t = $1; gsub(/[^0-9]/, "", t); print t, path[n]; exit }' "$uevents")
    [ -n "$line" ] && { echo "$line"; return 0; }
    [ "$(now_us)" -gt "$until" ] && return 1
    sleep 0.05
  done
}
finish() {
  systemctl stop iommu-watch >/dev/null 2>&1 || true
  marker BEGIN
  printf '%s\n' "${check_lines[@]}"
  echo "guest: $passed passed, $failed failed"
  marker END
  sync
  systemctl --no-block poweroff
  exit 0
}
trap finish EXIT

udevadm settle -t 30 || true
groups=$(ls /sys/kernel/iommu_groups | wc -l)
note "kernel $(uname -r), $groups IOMMU groups, $(ls /sys/bus/pci/devices | wc -l) PCI devices"
check "the kernel made IOMMU groups (intel_iommu=on)" test "$groups" -gt 0

start=$(now_us)
check "systemctl start iommu-watch (Type=notify) succeeds" timeout 60 systemctl start iommu-watch
note "start to active: $(( ($(now_us) - start) / 1000 )) ms"
check "the unit is active" test "$(systemctl is-active iommu-watch)" = active
if [ "$(systemctl is-active iommu-watch)" != active ]; then
  systemctl status --no-pager iommu-watch; journal -n 40
fi
check "systemd has our STATUS=" sh -c "systemctl show -p StatusText --value iommu-watch | grep -q '^$groups groups, '"
check "journalctl -u iommu-watch shows the summary of the real groups" \
  sh -c "journalctl --no-pager -u iommu-watch | grep -q 'Watching $groups IOMMU groups'"
check "journalctl MESSAGE_ID=<started> answers" sh -c "journalctl --no-pager -o export MESSAGE_ID=$started_id | grep -q '^IOMMU_WATCH_EVENT=started'"
check "journalctl -x -u iommu-watch shows the catalog text" \
  sh -c "journalctl --no-pager -x -u iommu-watch | grep -q 'iommu-watch read the IOMMU groups and is watching them'"

# ---- hotplug: the host sends device_add of an e1000e on the empty pcie-root-port.
# The reference time of each hotplug is the kernel's uevent as udevadm receives it (it sleeps in
# epoll until then); the entry's time is journald's receipt, the same clock. Sysfs polling from a
# shell loop on a loaded TCG guest lagged the daemon by up to 0.4 s, so it only finds the group.
uevents=/run/iommu-watch-qemu-uevents.log
stdbuf -oL udevadm monitor --kernel --subsystem-match=pci >"$uevents" 2>&1 &
monitor=$!
for _ in $(seq 100); do grep -q 'KERNEL - the kernel uevent' "$uevents" && break; sleep 0.05; done
marker ready
read -r appeared slot < <(uevent_us add 30) || true
check "the hotplugged device's add uevent came" test -n "${slot:-}"
[ -n "${slot:-}" ] || exit 0
group=
for _ in $(seq 100); do
  [ -e "/sys/bus/pci/devices/$slot/iommu_group" ] && { group=$(basename "$(readlink "/sys/bus/pci/devices/$slot/iommu_group")"); break; }
  sleep 0.05
done
note "device_add: $slot ($(cat "/sys/bus/pci/devices/$slot/vendor" 2>/dev/null):$(cat "/sys/bus/pci/devices/$slot/device" 2>/dev/null)) in IOMMU group ${group:-none}"
check "the kernel put it in an IOMMU group" test -n "$group"
added=$(first_entry_us MESSAGE_ID=$added_id PCI_SLOT="$slot")
if [ -n "$added" ]; then note "group-added entry $(( (added - appeared) / 1000 )) ms after the add uevent"
else note "no group-added entry for $slot within 15 s"; fi
check "a group-added entry for $slot within 5 s of the hotplug" test -n "$added" -a "$(( ${added:-0} - appeared ))" -le $limit_us
check "journalctl IOMMU_GROUP=$group (a real group) finds it" \
  sh -c "journalctl --no-pager -o export IOMMU_GROUP=$group | grep -qxF 'PCI_SLOT=$slot'"
check "journalctl -x explains the group-added entry" \
  sh -c "journalctl --no-pager -x MESSAGE_ID=$added_id | grep -q 'IOMMU group $group appeared'"

# ---- hot-unplug: the host sends device_del; pciehp removes the device after its 5 s button delay.
marker added-checked
read -r gone _ < <(uevent_us remove 60 "$slot") || true
check "device_del removed $slot (remove uevent)" test -n "${gone:-}"
[ -n "${gone:-}" ] || exit 0
kill "$monitor" 2>/dev/null
removed=$(first_entry_us MESSAGE_ID=$removed_id PCI_SLOT="$slot")
if [ -n "$removed" ]; then note "group-removed entry $(( (removed - gone) / 1000 )) ms after the remove uevent"
else note "no group-removed entry for $slot within 15 s"; fi
check "a group-removed entry for $slot within 5 s of the unplug" test -n "$removed" -a "$(( ${removed:-0} - gone ))" -le $limit_us
check "$slot is gone from sysfs" test ! -e "/sys/bus/pci/devices/$slot"
check "the unit is still active after the hotplug" test "$(systemctl is-active iommu-watch)" = active

# ---- reload and stop.
check "systemctl reload iommu-watch succeeds" timeout 60 systemctl reload iommu-watch
check "reload is logged and the unit stays active" \
  sh -c "journalctl --no-pager -u iommu-watch | grep -q 'Reloaded the configuration' && test \"\$(systemctl is-active iommu-watch)\" = active"
check "systemctl stop iommu-watch succeeds" timeout 60 systemctl stop iommu-watch
check "stopped cleanly (Result=success, status 0)" \
  sh -c "test \"\$(systemctl show -p Result --value iommu-watch)\" = success && test \"\$(systemctl show -p ExecMainStatus --value iommu-watch)\" = 0"

# ---- the watchdog, last (it needs a test-only drop-in): a stuck loop stops the WATCHDOG=1 pings, so
# systemd kills the daemon (SIGABRT) and Restart=on-failure brings it back.
mkdir -p /run/systemd/system/iommu-watch.service.d
printf '[Service]\nEnvironment=IOMMU_WATCH_TEST_STALL_ON_SIGUSR1=1\nWatchdogSec=4s\nRestartSec=1s\n' \
  >/run/systemd/system/iommu-watch.service.d/watchdog-test.conf
systemctl daemon-reload
check "systemctl start iommu-watch with a 4 s watchdog" timeout 60 systemctl start iommu-watch
. /usr/local/libexec/iommu-watch-watchdog-restart.sh  # Tests/Integration/watchdog-restart.sh, installed by qemu-guest.sh
restarted=no
watchdog_restart 30 systemctl && restarted=yes
check "a stuck loop is killed by the watchdog and restarted" test $restarted = yes
check "the journal names the watchdog" sh -c "journalctl --no-pager -u iommu-watch | grep -qi 'watchdog timeout'"
check "systemctl stop after the restart is clean" sh -c "timeout 60 systemctl stop iommu-watch && test \"\$(systemctl show -p Result --value iommu-watch)\" = success"
