# shellcheck shell=bash
# shellcheck disable=SC2154 # name, work and nspawn are the caller's, as said below
# Sourced by guest.sh and deb-guest.sh: a Debian 12 tree with systemd as PID 1 for systemd-nspawn,
# and the clean-up of one container. The caller sets `name` (the machine name), `work` (its scratch
# folder) and `nspawn` (the nspawn PID, empty until started).

# nspawn_guest_cleanup: stop the container, drop its cgroups and propagation folder, and `work`.
nspawn_guest_cleanup() {
  if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
    kill -TERM "$nspawn"; for _ in $(seq 50); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nspawn" 2>/dev/null || true
  fi
  for hierarchy in unified systemd; do
    echo $$ > "/sys/fs/cgroup/$hierarchy/cgroup.procs" 2>/dev/null || true
    find "/sys/fs/cgroup/$hierarchy/test-$name" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  rm -rf "/run/systemd/nspawn/propagate/$name" "$work"
}

# ensure_bookworm_guest ROOT [EXTRA-PACKAGE...]: debootstrap a minimal bookworm with systemd (and the
# extra packages) into ROOT unless it already holds one; built beside it and moved in when complete,
# so an interrupted run never leaves a half tree that looks done.
ensure_bookworm_guest() {
  local root=$1; shift
  [ -x "$root/lib/systemd/systemd" ] && return 0
  local mirror packages
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  packages=$(IFS=,; echo "systemd,systemd-sysv,dbus,libsystemd0,udev${*:+,$*}")
  echo "debootstrap of a minimal bookworm with systemd into $root (about a minute)"
  rm -rf "$root.new"; mkdir -p "$(dirname "$root")"
  debootstrap --variant=minbase --include="$packages" bookworm "$root.new" ${mirror:+"$mirror"} \
    >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; return 1; }
  rm -rf "$root.new/var/cache/apt/archives/"*.deb
  mv "$root.new" "$root"
}
