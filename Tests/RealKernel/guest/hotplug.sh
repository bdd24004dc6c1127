# Hotplug scenario (sourced by /init). The host adds an e1000e on the empty root
# port 00:06.0 over QMP once we print hotplug-ready, and removes it once we print
# hotplug-seen-add. We watch with iommu-watch (a scan loop, and the daemon when
# the binary has one) and log every uevent the kernel sends.
PORT=/sys/bus/pci/devices/0000:00:06.0

start_uevents

WATCHER=$(arg watcher)
if [ "$WATCHER" != scan ] && $IW --help 2>&1 | grep -q '^ *daemon '; then
    # no udevd in the initramfs, so the daemon's sd-device monitor (udev's netlink group) hears
    # nothing: a 1 s periodic rescan makes it see the hotplug all the same
    printf '[Daemon]\nRescanIntervalSec=1s\n' > /tmp/iommu-watch.conf
    $IW daemon --foreground --root / --config /tmp/iommu-watch.conf --state-dir /tmp/iw-state \
        > /tmp/daemon.log 2>&1 &
    DAEMON=$!
    say "daemon started pid=$DAEMON"
fi

capture before
# children of the port that are PCI functions (not the port's own pcie00N service devices)
child() { ls -d $PORT/0000:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f].[0-7] 2>/dev/null | head -n1 | sed 's|.*/||'; }
present() { [ -n "$(child)" ]; }
prev=$(md5sum < /tmp/scan-before.json | cut -d' ' -f1)
n=0; phase=add; seen_present=0
start=$(cut -d. -f1 /proc/uptime)
say "hotplug-ready"
while :; do
    now=$(cut -d. -f1 /proc/uptime)
    if [ $((now - start)) -gt 240 ]; then say "hotplug-timeout phase=$phase"; break; fi
    p=0; present && p=1
    rc=$(scan_to /tmp/loop.json)
    sum=$(md5sum < /tmp/loop.json | cut -d' ' -f1)
    changed=0
    if [ "$sum" != "$prev" ]; then
        n=$((n + 1)); prev=$sum; changed=1
        cp /tmp/loop.json /tmp/scan-loop$n.json
        say "scan-change $n rc=$rc present=$p t=$(cut -d' ' -f1 /proc/uptime)"
        emit "scan-loop$n.json" /tmp/scan-loop$n.json
    fi
    if [ $phase = add ] && [ $p = 1 ]; then
        # the device is there; wait until the scan shows it in a group
        slot=$(child)
        if grep -q "\"$slot\"" /tmp/loop.json; then
            capture added
            say "hotplug-seen-add slot=$slot"
            phase=remove
        fi
    elif [ $phase = remove ] && [ $p = 0 ]; then
        # gone from sysfs; wait until the scan no longer shows it (or 30 s)
        [ -z "$gone" ] && gone=$now
        if ! grep -q "\"$slot\"" /tmp/loop.json || [ $((now - gone)) -gt 30 ]; then
            capture after
            say "hotplug-seen-remove slot=$slot"
            break
        fi
    fi
    sleep 0.3
done
sleep 1
if [ -n "$DAEMON" ]; then
    a=0; kill -0 $DAEMON 2>/dev/null && a=1
    say "daemon alive=$a"
    kill $DAEMON; sleep 1; emit daemon.log /tmp/daemon.log
fi
stop_uevents
