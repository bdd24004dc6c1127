#!/bin/bash
# The guest test's real-kernel half: the daemon under systemd as PID 1 in a QEMU guest with an
# emulated Intel IOMMU (testbed.md §5, §4), so the IOMMU groups are the kernel's own and a QMP
# hotplug reaches the daemon as a real uevent. Run as root from the project (make qemu-guest-test).
#  1. bootstrap a minimal bookworm root (systemd, udev, kmod) while the host fetches Debian's
#     linux-image-amd64 (6.1) and builds the release binary; unpack the kernel and its modules into
#     the root; `make install DESTDIR=<root> PREFIX=/usr`; a oneshot unit runs
#     qemu-guest-checks.sh at boot with its output on ttyS0;
#  2. a busybox initramfs (virtio_blk + ext4 modules, then switch_root) and an ext4 image made with
#     `mkfs.ext4 -d` (no loop mount);
#  3. boot q35 + intel-iommu (intel_iommu=on) with an empty pcie-root-port and a QMP socket; on the
#     guest's "@@QG ready" send device_add e1000e, on "@@QG added-checked" device_del; the guest
#     checks that each group entry reached journald within 5 s of the kernel's add/remove uevent;
#  4. collect the results printed between @@QG BEGIN/END. Prints "N passed, N failed".
# Nothing is cached: everything lives in .build-qemu-guest/ (git-ignored) and is removed at the end
# (IOMMU_WATCH_QEMU_KEEP=1 keeps it; IOMMU_WATCH_QEMU_ROOT=DIR copies a bootstrapped tree instead of
# bootstrapping, for development only). QEMU is killed on any exit. Timeouts on every wait.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
work=$project/.build-qemu-guest
root=$work/root
console=$work/console.log
qmp_socket=$work/qmp.sock
suite=bookworm
boot_timeout=${IOMMU_WATCH_QEMU_BOOT_TIMEOUT:-240}   # boot + start to "@@QG ready", s
qemu= jobs_started=()
began=$(date +%s)

. "$here/check.sh"  # check DESCRIPTION COMMAND...
elapsed() { echo "$(( $(date +%s) - began )) s"; }
step() { echo "[$(elapsed)] $*"; }
die() { echo "qemu-guest: $*" >&2; [ -f "$console" ] && { echo "--- console (last 60 lines)"; tail -60 "$console" | tr -d '\r'; } >&2; exit 1; }

cleanup() {
  local status=$?
  if [ -n "$qemu" ] && kill -0 "$qemu" 2>/dev/null; then kill -TERM "$qemu" 2>/dev/null; sleep 0.5; kill -KILL "$qemu" 2>/dev/null || true; fi
  # Each background job leads its own process group (setsid): end the group, apt and dpkg with it.
  for pid in "${jobs_started[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${IOMMU_WATCH_QEMU_KEEP:-0}" = 1 ]; then echo "kept $work"
  else
    if mountpoint -q "$work"; then umount "$work" || umount -l "$work"; fi
    rm -rf "$work"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || die "run as root (bootstrap, chroot)"
for tool in qemu-system-x86_64 busybox cpio mkfs.ext4 python3 dpkg-deb; do
  command -v "$tool" >/dev/null || die "$tool is missing (make test-deps)"
done
# mmdebstrap: one apt run, unsafe I/O; debootstrap (IOMMU_WATCH_QEMU_BOOTSTRAP=debootstrap, or when
# mmdebstrap is missing) works too, about a minute slower.
bootstrap=$(command -v "${IOMMU_WATCH_QEMU_BOOTSTRAP:-mmdebstrap}" || command -v debootstrap || true)
[ -n "$bootstrap" ] || die "needs mmdebstrap or debootstrap (make test-deps)"
if mountpoint -q "$work"; then umount "$work"; fi
rm -rf "$work"; mkdir -p "$work"
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}

# ---- 1. at once: the root; the kernel package, unpacked; the release binary, installed.
step "bootstrap $suite with $(basename "$bootstrap"); fetch linux-image-amd64; make install"
# dpkg's fsync per file is most of a bootstrap on a busy disk: the root is thrown away after one
# boot, so it is built on a tmpfs (mounted on .build-qemu-guest, unmounted on exit) with unsafe I/O.
if [ "${IOMMU_WATCH_QEMU_TMPFS:-1}" = 1 ]; then
  mount -t tmpfs -o size=6G,mode=0755 iommu-watch-qemu "$work" || echo "no tmpfs here: building on disk"
fi
packages=systemd,systemd-sysv,udev,kmod,dbus
background() { # log, command...: in its own process group, so cleanup can end all of it
  local log=$1; shift
  setsid "$@" >"$log" 2>&1 </dev/null &
  jobs_started+=("$!")
}
if [ -n "${IOMMU_WATCH_QEMU_ROOT:-}" ]; then   # development only: a copy of a bootstrapped tree
  background "$work/bootstrap.log" cp -a "$IOMMU_WATCH_QEMU_ROOT" "$root"
elif [ "$(basename "$bootstrap")" = mmdebstrap ]; then
  background "$work/bootstrap.log" timeout 900 mmdebstrap --variant=minbase --include="$packages" \
    --skip=cleanup/apt/lists --dpkgopt=force-unsafe-io --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' "$suite" "$root" "$mirror"
else
  background "$work/bootstrap.log" timeout 900 debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror"
fi
bootstrap_pid=$!
# Debian's kernel (the version linux-image-amd64 points at now: the archive moves), unpacked beside
# the root without the drivers a q35 guest never loads; moved in once the root exists.
fetch_kernel() { # folder
  set -euo pipefail
  cd "$1"
  apt-cache show linux-image-amd64 >/dev/null 2>&1 || apt-get update -qq
  local image deb
  image=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  [ -n "$image" ] || { echo "linux-image-amd64 has no linux-image-<version> dependency"; exit 1; }
  timeout 300 apt-get download -q "$image" 2>&1 | grep -v 'unsandboxed' || true
  deb=$(ls linux-image-*.deb | head -1)
  mkdir -p kernel
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C kernel --wildcards \
    --exclude='*/kernel/drivers/gpu/*' --exclude='*/kernel/drivers/media/*' \
    --exclude='*/kernel/drivers/infiniband/*' --exclude='*/kernel/drivers/net/wireless/*' \
    --exclude='*/kernel/drivers/staging/*' --exclude='*/kernel/sound/*' --exclude='*/kernel/drivers/iio/*' \
    --exclude='*/kernel/drivers/scsi/*' --exclude='*/kernel/drivers/bluetooth/*' --exclude='*/kernel/net/wireless/*' \
    --exclude='*/kernel/net/mac80211/*' --exclude='*/kernel/drivers/isdn/*' --exclude='./usr/share/doc/*'
  rm -f "$deb"
}
background "$work/kernel.log" bash -c "$(declare -f fetch_kernel); fetch_kernel \"\$1\"" fetch "$work"
kernel_pid=$!
# `make install DESTDIR=... PREFIX=/usr` of the release binary, staged while the root is built
# (the bootstrap wants an empty directory) and copied over it afterwards.
background "$work/install.log" make -s -C "$project" install DESTDIR="$work/stage" PREFIX=/usr SYSCONFDIR=/etc
install_pid=$!

wait "$kernel_pid" || { cat "$work/kernel.log"; die "could not fetch the kernel"; }
wait "$install_pid" || { tail -30 "$work/install.log"; die "make install failed"; }
step "kernel unpacked, make install staged"
wait "$bootstrap_pid" || { tail -20 "$work/bootstrap.log"; die "bootstrap failed"; }
jobs_started=()
step "root bootstrapped ($(du -sm "$root" | cut -f1) MB)"

vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-* | head -1)
version=${vmlinuz##*/vmlinuz-}
mkdir -p "$root/boot" "$root/usr/lib/modules"
mv "$work"/kernel/boot/* "$root/boot/"
mv "$work/kernel/lib/modules/$version" "$root/usr/lib/modules/"
vmlinuz=$root/boot/vmlinuz-$version
chroot "$root" depmod "$version"
check "the e1000e module is in the guest" test -n "$(find "$root/usr/lib/modules/$version" -name 'e1000e.ko*')"
cp -a "$work/stage/." "$root/"
check "make install put the unit, the binary and the catalog in the guest" test -x "$root/usr/bin/iommu-watch" \
  -a -f "$root/usr/lib/systemd/system/iommu-watch.service" -a -f "$root/usr/lib/systemd/catalog/iommu-watch-daemon.catalog"
chroot "$root" journalctl --update-catalog

# ---- the test unit, and a quiet serial console.
install -D -m 0755 "$here/qemu-guest-checks.sh" "$root/usr/local/libexec/iommu-watch-qemu-checks"
install -D -m 0644 "$here/watchdog-restart.sh" "$root/usr/local/libexec/iommu-watch-watchdog-restart.sh"
install -D -m 0644 "$here/check.sh" "$root/usr/local/libexec/iommu-watch-check.sh"
cat >"$root/etc/systemd/system/iommu-watch-qemu-checks.service" <<'UNIT'
[Unit]
Description=iommu-watch QEMU guest checks (Tests/Integration/qemu-guest.sh)
After=systemd-udevd.service systemd-udev-trigger.service systemd-journald.service

[Service]
Type=oneshot
ExecStart=/usr/local/libexec/iommu-watch-qemu-checks
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS0
TTYReset=no
TTYVHangup=no
TimeoutStartSec=400

[Install]
WantedBy=multi-user.target
UNIT
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf ../iommu-watch-qemu-checks.service "$root/etc/systemd/system/multi-user.target.wants/"
# The console belongs to the checks; nothing in the guest needs the network or timers.
for unit in serial-getty@ttyS0.service getty@tty1.service apt-daily.timer apt-daily-upgrade.timer \
  dpkg-db-backup.timer e2scrub_all.timer fstrim.timer systemd-networkd.service systemd-timesyncd.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
echo "/dev/vda / ext4 defaults 0 1" >"$root/etc/fstab"
echo iwqemu >"$root/etc/hostname"
: >"$root/etc/machine-id"

# ---- 2. initramfs: busybox loads virtio_blk and ext4, mounts /dev/vda, hands over to systemd.
initrd_dir=$work/initrd
mkdir -p "$initrd_dir"/{bin,dev,proc,sys,newroot,modules}
cp "$(command -v busybox)" "$initrd_dir/bin/busybox"
ldd "$initrd_dir/bin/busybox" >/dev/null 2>&1 && die "busybox must be static (busybox-static)"
: >"$initrd_dir/modules/order"
for module in virtio_pci virtio_blk crc32c_generic ext4; do chroot "$root" modprobe -S "$version" --show-depends "$module"; done \
  | awk '$1 == "insmod" {print $2}' | awk '!seen[$0]++' | while read -r module; do
    cp "$root$module" "$initrd_dir/modules/"; echo "${module##*/}" >>"$initrd_dir/modules/order"
  done
cat >"$initrd_dir/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
while read -r module; do insmod "/modules/$module" 2>/dev/null; done </modules/order
for _ in $(seq 300); do [ -b /dev/vda ] && break; sleep 0.1; done
mount -t ext4 -o rw /dev/vda /newroot || { echo "initramfs: cannot mount /dev/vda"; poweroff -f; }
umount /proc /sys; mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
INIT
chmod 0755 "$initrd_dir/init"
(cd "$initrd_dir" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.img"

step "ext4 image"
truncate -s 2G "$work/rootfs.img"
mkfs.ext4 -q -F -L iwqemu -d "$root" "$work/rootfs.img"
step "image ready ($(du -sm "$work/rootfs.img" | cut -f1) MB used)"

# ---- 3. boot, hotplug through QMP while the guest watches.
: >"$console"
qemu-system-x86_64 -machine q35 -accel tcg -m 1G -smp 2 -nodefaults -display none -no-reboot \
  -device intel-iommu -device pcie-root-port,id=rphp,chassis=1 \
  -kernel "$vmlinuz" -initrd "$work/initrd.img" \
  -append "console=ttyS0 root=/dev/vda rw intel_iommu=on panic=-1 quiet loglevel=3 no_timer_check systemd.show_status=0" \
  -drive file="$work/rootfs.img",format=raw,if=virtio -serial file:"$console" -monitor none \
  -qmp unix:"$qmp_socket",server=on,wait=off >"$work/qemu.log" 2>&1 </dev/null &
qemu=$!
boot_began=$(date +%s)
step "QEMU started (pid $qemu)"

wait_for() { # marker, timeout s
  local deadline=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    grep -qa "@@QG $1" "$console" && return 0
    kill -0 "$qemu" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}
qmp() { timeout 60 python3 "$here/qmp.py" "$qmp_socket" "$@" >>"$work/qmp.log" 2>&1; }

if wait_for ready "$boot_timeout"; then
  step "guest ready, iommu-watch active ($(( $(date +%s) - boot_began )) s after QEMU started): device_add e1000e"
  check "QMP device_add e1000e on the root port" qmp device_add driver=e1000e id=hp1 bus=rphp
  if wait_for added-checked 90; then
    step "add checked: device_del"
    check "QMP device_del, DEVICE_DELETED received" qmp device_del id=hp1 --wait-event DEVICE_DELETED --timeout 60
  else
    check "the guest checked the added device" false
  fi
else
  check "the guest booted and started iommu-watch within ${boot_timeout} s" false
  boot_failed=yes
fi
if [ "${boot_failed:-no}" = no ]; then
  wait_for END 120 || true
  deadline=$(( $(date +%s) + 60 ))
  while kill -0 "$qemu" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
  check "the guest powered off by itself" sh -c "! kill -0 $qemu"
fi
step "QEMU ended ($(( $(date +%s) - boot_began )) s after it started)"

# ---- 4. the guest's results.
results=$(tr -d '\r' <"$console" | sed -n '/^@@QG BEGIN/,/^@@QG END/p' | sed '1d;$d')
if [ -n "$results" ]; then
  echo "guest:"
  grep -v '^guest: ' <<<"$results"
  guest_passed=$(grep -c '^  ok ' <<<"$results" || true)
  guest_failed=$(grep -c '^  FAIL ' <<<"$results" || true)
  passed=$((passed + guest_passed)); failed=$((failed + guest_failed))
else
  check "the guest printed its results" false
  echo "--- console (last 60 lines)"; tr -d '\r' <"$console" | tail -60
fi
echo "qemu-guest: whole run $(elapsed)"
echo "qemu-guest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
