import IOMMUModel
import IOMMUSnapshot

/// Why a root shows no IOMMU groups, in one paragraph: absent in firmware, or present and not enabled.
/// The model decides whether the IOMMU is on and what turned it off (`TranslationState`); this only
/// puts that into words.
public enum IOMMUAbsence {
    public static func explanation(for snapshot: Snapshot, translation: TranslationState) -> String {
        let where_ = snapshot.hasIOMMUGroupsFolder ? "sys/kernel/iommu_groups is empty" : "sys/kernel/iommu_groups does not exist"
        let offBy: PolicySource? = if case .off(let source) = translation { source } else { nil }
        if snapshot.firmware.dmar != nil {
            let declared = "No IOMMU groups (\(where_)). The firmware declares an Intel VT-d IOMMU (ACPI DMAR table present)"
            switch offBy {
            case .commandLine(let parameter)?:
                return
                    "\(declared), but the kernel command line says \(parameter), so the kernel did not enable it and devices do DMA to physical memory without translation. Remove \(parameter) (and add intel_iommu=on where the kernel is built with it off by default) to enable it."
            case .buildConfig(let option)?:
                return
                    "\(declared), but the kernel is built with it off (\(option)). Add intel_iommu=on to the kernel command line to enable it."
            default:
                return
                    "\(declared), but the kernel did not enable it. Kernels built without CONFIG_INTEL_IOMMU_DEFAULT_ON need intel_iommu=on on the kernel command line; iommu=off or a kernel without CONFIG_INTEL_IOMMU also leave it off."
            }
        }
        if snapshot.firmware.ivrs != nil {
            let declared = "No IOMMU groups (\(where_)). The firmware declares an AMD-Vi IOMMU (ACPI IVRS table present)"
            switch offBy {
            case .commandLine(let parameter)?:
                return
                    "\(declared), but the kernel command line says \(parameter), so the kernel did not enable it. Remove \(parameter) to enable it."
            case .buildConfig(let option)?:
                return "\(declared), but the kernel is built without its driver (\(option))."
            default:
                return
                    "\(declared), but the kernel did not enable it. The AMD driver is on by default; look for iommu=off or amd_iommu=off on the command line, a kernel without CONFIG_AMD_IOMMU, or AMD-Vi errors in the kernel log."
            }
        }
        let declared = snapshot.firmware.declarations
        if !declared.isEmpty || !snapshot.iommus.isEmpty {
            let units = snapshot.iommus.map { "\($0.name) (\($0.driver.name))" }.joined(separator: ", ")
            let firmware = declared.isEmpty ? "" : "The firmware declares an IOMMU with \(declared.joined(separator: " and ")). "
            let registered =
                units.isEmpty
                ? "No IOMMU unit is registered: the driver (arm-smmu-v3, arm-smmu, virtio_iommu) may not be built or loaded — check the kernel log and the initramfs."
                : "The kernel registered \(units), but it translates nothing: no device was attached (with virtio-iommu on 7.x the groups appear and vanish, and drivers bind untranslated after their deferred-probe timeout). Check the kernel log for iommu, smmu and virtio_iommu lines."
            return "No IOMMU groups (\(where_)). \(firmware)\(registered) Devices DMA to physical memory unchecked."
        }
        return
            "No IOMMU groups (\(where_)), and the firmware declares no IOMMU (no ACPI DMAR, IVRS, IORT or VIOT table under sys/firmware/acpi/tables, and no device-tree node with iommu-map or iommus). Either the machine has none, or it is switched off in the firmware setup (Intel VT-d, AMD IOMMU/AMD-Vi); in a virtual machine the hypervisor must provide one (QEMU: -device intel-iommu or -device amd-iommu)."
    }
}
