# Sourced by guest.sh (systemd in nspawn, reached through nsenter) and, installed beside it, by
# qemu-guest-checks.sh (inside the QEMU guest): the one wait both make for the watchdog check.
#
# watchdog_restart SECONDS SYSTEMCTL...: SIGUSR1 makes the daemon's loop stop pinging WATCHDOG=1, so
# systemd must kill it and Restart=on-failure start a new main process. Succeeds once that new
# process is active (first restart, a different PID), fails after SECONDS. SYSTEMCTL is the command
# that reaches the guest's systemctl: `systemctl`, or guest.sh's `guest systemctl`.
watchdog_restart() {
  local seconds=$1; shift
  local first pid end
  first=$("$@" show -p MainPID --value iommu-watch)
  "$@" kill -s USR1 --kill-who=main iommu-watch || true
  end=$(( $(date +%s) + seconds ))
  while [ "$(date +%s)" -lt "$end" ]; do
    pid=$("$@" show -p MainPID --value iommu-watch)
    [ "$("$@" show -p NRestarts --value iommu-watch)" = 1 ] && [ "$pid" != 0 ] && [ "$pid" != "$first" ] \
      && [ "$("$@" is-active iommu-watch)" = active ] && return 0
    sleep 0.1
  done
  return 1
}
