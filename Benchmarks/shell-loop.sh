#!/bin/bash
# The classic loop users paste to list IOMMU groups (the Arch wiki's, with the
# lspci call spelled out as the sysfs reads it does), on a root given as $1:
# for each group, for each device, read its attributes and driver.
# It is the slow baseline of Benchmarks/run, not something to ship.
shopt -s nullglob
ROOT=${1:?usage: shell-loop.sh ROOT}
for g in "$ROOT"/sys/kernel/iommu_groups/*; do
    echo "IOMMU Group ${g##*/} ($(cat "$g/type")):"
    for d in "$g"/devices/*; do
        vendor=$(cat "$d/vendor")
        device=$(cat "$d/device")
        class=$(cat "$d/class")
        driver=$(basename "$(readlink "$d/driver")")
        echo -e "\t${d##*/} [${class#0x}] [${vendor#0x}:${device#0x}] driver=${driver}"
    done
done
