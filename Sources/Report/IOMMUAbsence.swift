import IOMMUSnapshot

/// Why a root shows no IOMMU groups, in one paragraph: absent in firmware, or present and not enabled.
public enum IOMMUAbsence {
    public static func explanation(for snapshot: Snapshot) -> String {
        let where_ = snapshot.hasIOMMUGroupsFolder ? "sys/kernel/iommu_groups is empty" : "sys/kernel/iommu_groups does not exist"
        let cmdline = snapshot.kernel.commandLine
        if snapshot.firmware.dmar != nil {
            if cmdline?.options(of: "intel_iommu").contains("off") == true {
                return
                    "No IOMMU groups (\(where_)). The firmware declares an Intel VT-d IOMMU (ACPI DMAR table present), but the kernel command line says intel_iommu=off, so the kernel did not enable it and devices do DMA to physical memory without translation. Remove intel_iommu=off (and add intel_iommu=on where the kernel is built with it off by default) to enable it."
            }
            return
                "No IOMMU groups (\(where_)). The firmware declares an Intel VT-d IOMMU (ACPI DMAR table present), but the kernel did not enable it. Kernels built without CONFIG_INTEL_IOMMU_DEFAULT_ON need intel_iommu=on on the kernel command line; iommu=off or a kernel without CONFIG_INTEL_IOMMU also leave it off."
        }
        if snapshot.firmware.ivrs != nil {
            if cmdline?.options(of: "amd_iommu").contains("off") == true {
                return
                    "No IOMMU groups (\(where_)). The firmware declares an AMD-Vi IOMMU (ACPI IVRS table present), but the kernel command line says amd_iommu=off, so the kernel did not enable it. Remove amd_iommu=off to enable it."
            }
            return
                "No IOMMU groups (\(where_)). The firmware declares an AMD-Vi IOMMU (ACPI IVRS table present), but the kernel did not enable it. The AMD driver is on by default; look for iommu=off or amd_iommu=off on the command line, a kernel without CONFIG_AMD_IOMMU, or AMD-Vi errors in the kernel log."
        }
        return
            "No IOMMU groups (\(where_)), and the firmware declares no IOMMU (no ACPI DMAR or IVRS table under sys/firmware/acpi/tables). Either the machine has none, or it is switched off in the firmware setup (Intel VT-d, AMD IOMMU/AMD-Vi); in a virtual machine the hypervisor must provide one (QEMU: -device intel-iommu or -device amd-iommu)."
    }
}
