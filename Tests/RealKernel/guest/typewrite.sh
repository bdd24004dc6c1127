# `type` write scenario (sourced by /init): bind e1000e, pick a single-device
# group, write identity and DMA with the driver bound and unbound, rebind, then
# try a multi-device group. Every write's result goes to /tmp/typewrite.log.
LOG=/tmp/typewrite.log
log() { echo "$*" >> $LOG; }
tw() { # tw LABEL VALUE FILE
    uevent_mark "$1"
    out=$( { echo "$2" > "$3"; } 2>&1 ); rc=$?
    log "$1: echo $2 > ${3#/sys/kernel/iommu_groups/} -> rc=$rc${out:+ ($(echo "$out" | sed 's/^.*: //'))}; type now $(cat "$3")"
}
start_uevents
for m in $(cat /lib/modules/iw/order); do
    out=$(insmod /lib/modules/iw/$m 2>&1); log "insmod $m -> rc=$?${out:+ ($out)}"
done
sleep 2
DRV=/sys/bus/pci/drivers/e1000e
slot=
for d in $DRV/0000:*; do
    [ -e "$d" ] || continue
    n=$(ls "$d/iommu_group/devices" | wc -l)
    if [ "$n" = 1 ]; then slot=$(basename "$d"); break; fi
done
if [ -z "$slot" ]; then
    log "no e1000e-bound device in a single-device group; bound: $(ls -d $DRV/0000:* 2>/dev/null | tr '\n' ' ')"
else
    G=$(basename "$(readlink /sys/bus/pci/devices/$slot/iommu_group)")
    T=/sys/kernel/iommu_groups/$G/type
    M=/sys/bus/pci/devices/$slot/dma_mask_bits
    log "device $slot (e1000e) alone in group $G; type $(cat $T); dma_mask_bits $(cat $M); ls -l type: $(ls -l $T | cut -d' ' -f1)"
    capture bound
    tw "bound, write identity" identity $T
    uevent_mark unbind; echo $slot > $DRV/unbind; log "unbind -> rc=$?"
    capture unbound
    tw "unbound, write identity" identity $T
    capture identity
    out=$( { echo $slot > $DRV/bind; } 2>&1 ); log "bind -> rc=$?${out:+ ($out)}; driver $(basename "$(readlink /sys/bus/pci/devices/$slot/driver)"); dma_mask_bits $(cat $M)"
    capture identity-bound
    echo $slot > $DRV/unbind; log "unbind -> rc=$?"
    tw "unbound, write DMA" DMA $T
    capture dma
    out=$( { echo $slot > $DRV/bind; } 2>&1 ); log "bind -> rc=$?${out:+ ($out)}; driver $(basename "$(readlink /sys/bus/pci/devices/$slot/driver)"); dma_mask_bits $(cat $M)"
    capture dma-bound
    echo $slot > $DRV/unbind
    tw "unbound, write auto" auto $T
    echo $slot > $DRV/bind
fi
# a multi-device group: the first group with more than one device
for g in $(ls /sys/kernel/iommu_groups | sort -n); do
    n=$(ls /sys/kernel/iommu_groups/$g/devices | wc -l)
    [ "$n" -gt 1 ] || continue
    devs=""
    for d in /sys/kernel/iommu_groups/$g/devices/*; do
        drv=-; [ -L "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
        devs="$devs $(basename "$d")($drv)"
    done
    log "multi-device group $g:$devs; type $(cat /sys/kernel/iommu_groups/$g/type)"
    tw "multi-device group $g, write identity" identity /sys/kernel/iommu_groups/$g/type
    tw "multi-device group $g, write DMA" DMA /sys/kernel/iommu_groups/$g/type
    break
done
capture after
emit typewrite.log $LOG
stop_uevents
