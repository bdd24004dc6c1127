# Tree capture without iommu-watch (sourced by /init, iwtest.mode=capture): the ARM64 column.
# There is no arm64 iommu-watch binary (the release build is x86-64, and the reader is
# root-agnostic), so the guest copies, with busybox alone, the files the reader reads plus the
# firmware's IOMMU description (IORT, VIOT, the device tree) and emits the tree; the host scans
# and snapshots it with its own binary (harness.py, check_capture).
#
# iwtest.drivers=all (default): load the IOMMU driver modules first, then the device drivers,
# so the devices bind behind the IOMMU. iwtest.drivers=none: the IOMMU modules only.
C=/tmp/cap
LOG=/tmp/capture.log
log() { echo "$*" >> $LOG; }
: > $LOG

copy() { # copy a path (relative to /) into $C, links as links, regular files by content
    [ -e "/$1" ] || [ -L "/$1" ] || return 0
    [ -d "$C/${1%/*}" ] || mkdir -p "$C/${1%/*}"  # no $(dirname): every fork costs under TCG
    if [ -L "/$1" ]; then
        ln -sfn "$(readlink "/$1")" "$C/$1"
    elif [ -f "/$1" ]; then
        cat "/$1" > "$C/$1" 2>/dev/null || log "unreadable: /$1"
    fi
}
real() { (cd "/$1" 2>/dev/null && pwd -P) | sed 's|^/||'; }
copy_files() { # every readable regular file directly in folder $1 (relative), links too
    for f in "/$1"/*; do
        [ -L "$f" ] || [ -f "$f" ] || continue
        copy "${f#/}"
    done
}

# 1. drivers: the IOMMU first (virtio-iommu is a module on 6.12+; SMMUv3 is built in), then
#    the rest, unless iwtest.drivers=none
drivers=$(arg drivers)
for m in $(cat /lib/modules/iw/order); do
    case "$m" in
    virtio_iommu.ko) ;;
    *) [ "$drivers" = none ] && continue;;
    esac
    out=$(insmod /lib/modules/iw/$m 2>&1); log "insmod $m -> rc=$?${out:+ ($out)}"
done
sleep 2
say "drivers loaded t=$(cut -d' ' -f1 /proc/uptime)"
# Wait until no probe is deferred: on 7.2 under virtio-iommu every function waits for the IOMMU
# until the deferred-probe timeout (~10 s after the initcalls) and only then binds, untranslated;
# a capture taken before that is a half-bound machine. At most 40 s.
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
i=0
# (debugfs files report size 0, so `[ -s ]` cannot tell: read them)
while [ -n "$(cat /sys/kernel/debug/devices_deferred 2>/dev/null)" ] && [ $i -lt 40 ]; do
    sleep 1
    i=$((i + 1))
done
log "deferred probes: waited ${i}s; still deferred: $(tr '\n' ' ' < /sys/kernel/debug/devices_deferred 2>/dev/null)"
sleep 1
say "probes settled t=$(cut -d' ' -f1 /proc/uptime) waited=${i}s"

say "copying t=$(cut -d' ' -f1 /proc/uptime)"
# 2. the files the reader reads (SnapshotReader), as `iommu-watch snapshot` would copy them
for f in proc/cmdline proc/version proc/iomem proc/interrupts proc/meminfo proc/modules; do copy $f; done
# the groups folder even when empty (7.2 under virtio-iommu: "exists, empty" is not "absent")
[ -d /sys/kernel/iommu_groups ] && mkdir -p $C/sys/kernel/iommu_groups
for g in /sys/kernel/iommu_groups/*; do
    [ -d "$g" ] || continue
    r=${g#/}
    for f in type reserved_regions name; do copy "$r/$f"; done
    mkdir -p "$C/$r/devices"
    for d in "$g"/devices/*; do
        [ -L "$d" ] || continue
        copy "${d#/}"
        t=$(real "${d#/}")
        # a member that is not a PCI function: its bus, driver and firmware node
        for f in subsystem driver of_node firmware_node iommu iommu_group modalias; do copy "$t/$f"; done
    done
done
mkdir -p $C/sys/bus/pci/devices
for l in /sys/bus/pci/devices/*; do
    [ -L "$l" ] || continue
    copy "${l#/}"
    r=$(real "${l#/}")
    for f in vendor device class subsystem_vendor subsystem_device revision dma_mask_bits \
             consistent_dma_mask_bits removable boot_vga config numa_node enable irq reset_method \
             msi_bus local_cpulist; do
        copy "$r/$f"
    done
    for f in driver iommu_group iommu of_node firmware_node subsystem; do copy "$r/$f"; done
    # the parent folders the links pass through (host bridge, bridges): their firmware nodes
    p=${r%/*}
    while [ "$p" != sys/devices ] && [ "${p#*/}" != "$p" ]; do
        for f in of_node firmware_node; do copy "$p/$f"; done
        p=${p%/*}
    done
done
mkdir -p $C/sys/class/iommu
for u in /sys/class/iommu/*; do
    [ -L "$u" ] || continue
    copy "${u#/}"
    r=$(real "${u#/}")
    copy_files "$r"
    for s in "/$r"/*; do  # attribute groups (intel-iommu/, amd-iommu/, …) and devices/
        [ -d "$s" ] && [ ! -L "$s" ] || continue
        case "$(basename "$s")" in power) continue;; esac
        copy_files "${s#/}"
    done
    # the platform device the unit belongs to (SMMUv3: arm-smmu-v3.N.auto or <addr>.smmuv3)
    [ -L "/$r/device" ] && copy "$r/device"
done
# platform and virtio devices: links (which exist), and the IOMMU's own device in full
mkdir -p $C/sys/bus/platform/devices $C/sys/bus/virtio/devices
for l in /sys/bus/platform/devices/* /sys/bus/virtio/devices/*; do
    [ -L "$l" ] || continue
    copy "${l#/}"
    r=$(real "${l#/}")
    for f in driver iommu_group iommu of_node firmware_node modalias device; do copy "$r/$f"; done
done
if [ -d /sys/firmware/acpi/tables ]; then  # ACPI boots only: a DT boot has no sys/firmware/acpi
    mkdir -p $C/sys/firmware/acpi/tables
    ls /sys/firmware/acpi/tables > $C/sys/firmware/acpi/tables.list
    for t in IORT VIOT DMAR IVRS MCFG; do copy sys/firmware/acpi/tables/$t; done
fi
if [ -d /sys/firmware/devicetree/base ]; then
    mkdir -p $C/sys/firmware/devicetree
    cp -a /sys/firmware/devicetree/base $C/sys/firmware/devicetree/base 2>>$LOG
fi
# dev/: which VFIO interfaces the kernel offers (iommufd's /dev/iommu, VFIO's cdevs), as empty
# files: the reader asks only whether they exist (PlatformFacts).
# `.keep` holds the folder in git when neither exists, so the tree still says "absent", not "not known".
mkdir -p $C/dev
: > $C/dev/.keep
[ -e /dev/iommu ] && : > $C/dev/iommu
if [ -d /dev/vfio/devices ]; then
    mkdir -p $C/dev/vfio/devices
    for f in /dev/vfio/devices/*; do [ -e "$f" ] && : > "$C/${f#/}"; done
fi
for f in /sys/module/vfio/parameters/enable_unsafe_noiommu_mode \
         /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts \
         /sys/module/iommu/parameters/* /sys/module/arm_smmu_v3/parameters/* \
         /sys/module/virtio_iommu/parameters/*; do
    [ -f "$f" ] && copy "${f#/}"
done

# 3. what the tree alone does not say: which driver bound each function, its group, modules
{
    echo "# lspci-like: slot driver group"
    for l in /sys/bus/pci/devices/*; do
        [ -L "$l" ] || continue
        drv=-; grp=-
        [ -L "$l/driver" ] && drv=$(basename "$(readlink "$l/driver")")
        [ -L "$l/iommu_group" ] && grp=$(basename "$(readlink "$l/iommu_group")")
        echo "$(basename "$l") $(cat "$l/vendor"):$(cat "$l/device") class=$(cat "$l/class") driver=$drv group=$grp"
    done
    echo "# class iommu"
    for u in /sys/class/iommu/*; do
        [ -L "$u" ] || continue
        echo "$(basename "$u") -> $(readlink "$u")"
        ls -l "$u/" 2>/dev/null | sed 's/^/    /'
        [ -d "$u/devices" ] && echo "    devices: $(ls "$u/devices" | tr '\n' ' ')"
    done
    echo "# groups"
    for g in $(ls /sys/kernel/iommu_groups 2>/dev/null | sort -n); do
        echo "$g type=$(cat /sys/kernel/iommu_groups/$g/type 2>/dev/null) devices=$(ls /sys/kernel/iommu_groups/$g/devices | tr '\n' ' ')"
        sed 's/^/    /' /sys/kernel/iommu_groups/$g/reserved_regions
    done
    echo "# acpi tables: $(ls /sys/firmware/acpi/tables 2>/dev/null | tr '\n' ' ')"
    echo "# modules"
    cat /proc/modules
} >> $LOG

say "capture done t=$(cut -d' ' -f1 /proc/uptime)"
emit_tree capture.tgz $C
emit capture.log $LOG
say "capture emitted t=$(cut -d' ' -f1 /proc/uptime)"

# Shutting down with devices still bound behind virtio-iommu took a minute on 6.12 (the IOMMU's
# virtio device goes down before the functions behind it): release the drivers first, after the
# capture, so the boot ends when the work is done.
for d in /sys/bus/pci/devices/*/driver/unbind; do
    case "$(readlink "${d%/driver/unbind}/driver")" in */virtio-pci) continue;; esac
    echo "$(basename "${d%/driver/unbind}")" > "$d" 2>/dev/null
done
say "drivers released t=$(cut -d' ' -f1 /proc/uptime)"
