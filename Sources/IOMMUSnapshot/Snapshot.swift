/// Everything iommu-watch reads from one filesystem root, typed. The reader fills it; it never judges.
public struct Snapshot: Sendable, Hashable {
    public var kernel: KernelInfo
    public var iommus: [IOMMUUnit]
    /// Sorted by id.
    public var groups: [IOMMUGroup]
    /// Sorted by address.
    public var pciDevices: [PCIDevice]
    public var firmware: FirmwareTables
    public var memory: PhysicalMemoryLayout
    /// Interrupt chips, VFIO and Thunderbolt state, where the root holds them.
    public var platform: PlatformFacts = PlatformFacts()
    /// `boot/config-<release>`, when the root has it.
    public var kernelConfig: KernelConfig?
    /// False when `sys/kernel/iommu_groups` does not exist at all (IOMMU absent or disabled).
    public var hasIOMMUGroupsFolder: Bool
    /// Everything that could not be read or parsed, by path.
    public var errors: [ReadError]

    public init(
        kernel: KernelInfo = KernelInfo(), iommus: [IOMMUUnit] = [], groups: [IOMMUGroup] = [], pciDevices: [PCIDevice] = [],
        firmware: FirmwareTables = FirmwareTables(), memory: PhysicalMemoryLayout = PhysicalMemoryLayout(),
        kernelConfig: KernelConfig? = nil,
        hasIOMMUGroupsFolder: Bool = true, errors: [ReadError] = []
    ) {
        self.kernel = kernel
        self.iommus = iommus
        self.groups = groups
        self.pciDevices = pciDevices
        self.firmware = firmware
        self.memory = memory
        self.kernelConfig = kernelConfig
        self.hasIOMMUGroupsFolder = hasIOMMUGroupsFolder
        self.errors = errors
    }

    /// The device at `address`, if the root lists it.
    public func device(_ address: PCIAddress) -> PCIDevice? {
        var low = 0, high = pciDevices.count
        while low < high {
            let mid = (low + high) / 2
            if pciDevices[mid].address < address { low = mid + 1 } else { high = mid }
        }
        return low < pciDevices.count && pciDevices[low].address == address ? pciDevices[low] : nil
    }

    /// The group holding `address`, found through the group's members.
    public func group(containing address: PCIAddress) -> IOMMUGroup? {
        groups.first { $0.pciMembers.contains(address) }
    }
}

/// `proc/version` and `proc/cmdline`.
public struct KernelInfo: Sendable, Hashable {
    /// The release, third word of `proc/version`: `6.1.0-56-amd64`.
    public var release: String?
    /// major.minor.patch parsed from the release.
    public var version: KernelVersion?
    /// `proc/version`, whole line.
    public var versionLine: String?
    /// `proc/cmdline`, without the newline.
    public var commandLine: KernelCommandLine?

    public init(release: String? = nil, version: KernelVersion? = nil, versionLine: String? = nil, commandLine: KernelCommandLine? = nil) {
        self.release = release
        self.version = version
        self.versionLine = versionLine
        self.commandLine = commandLine
    }
}

/// One `sys/class/iommu/<name>` unit.
public struct IOMMUUnit: Sendable, Hashable {
    public var name: String
    public var driver: IOMMUDriverFamily

    public init(name: String, driver: IOMMUDriverFamily) {
        self.name = name
        self.driver = driver
    }
}

public enum IOMMUDriverFamily: Sendable, Hashable {
    /// `intel-iommu/cap` and `ecap` (hex registers); nil where unreadable.
    case intel(capability: UInt64?, extendedCapability: UInt64?)
    /// `amd-iommu/cap` (hex) and `features`: the extended feature registers as the release prints
    /// them, colon-separated from 6.x (`0:29d3` on 6.1, `29d3:0` on 6.12: the order changed);
    /// nil where unreadable.
    case amd(capability: UInt64?, features: [UInt64]?)
    /// Arm SMMUv3 (`smmu3.0x…`); it shows no register files.
    case armSMMUv3
    /// Arm SMMU v1/v2 (`smmu.0x…`).
    case armSMMU
    /// virtio-iommu, a paravirtual IOMMU named after its PCI function or platform device.
    case virtio
    case other

    /// Arm SMMU (v1/v2, v3) or virtio-iommu: the firmware (IORT, VIOT, device tree) decides which
    /// functions it translates, not DMAR/IVRS scopes.
    public var isArmOrVirtio: Bool {
        switch self {
        case .armSMMUv3, .armSMMU, .virtio: true
        default: false
        }
    }

    /// `intel-iommu`, `amd-iommu` or `other` — the attribute folder's name.
    public var name: String {
        switch self {
        case .intel: "intel-iommu"
        case .amd: "amd-iommu"
        case .armSMMUv3: "arm-smmu-v3"
        case .armSMMU: "arm-smmu"
        case .virtio: "virtio-iommu"
        case .other: "other"
        }
    }
}

/// ACPI tables under `sys/firmware/acpi/tables/` (readable by root only on a live system).
public struct FirmwareTables: Sendable, Hashable {
    /// Intel's DMA Remapping table.
    public var dmar: FirmwareTable?
    /// AMD's I/O Virtualization Reporting Structure.
    public var ivrs: FirmwareTable?
    /// Arm's IO Remapping Table (SMMUv2/v3 and their ID mappings).
    public var iort: FirmwareTable?
    /// The Virtual I/O Translation table (virtio-iommu).
    public var viot: FirmwareTable?
    /// The IOMMU part of the device tree under `sys/firmware/devicetree/base`; nil without one.
    public var deviceTree: DeviceTreeIOMMUs?

    public init(dmar: FirmwareTable? = nil, ivrs: FirmwareTable? = nil, iort: FirmwareTable? = nil, viot: FirmwareTable? = nil) {
        self.dmar = dmar
        self.ivrs = ivrs
        self.iort = iort
        self.viot = viot
    }

    /// Which firmware says where PCI DMA goes on an Arm or virtio-iommu host: the ACPI tables when an
    /// IORT or VIOT exists (an Arm ACPI boot has no device tree in sysfs), else a device tree that
    /// describes a PCI host bridge; nil for neither (x86).
    public var pciRouteSource: PCIRouteSource? {
        if iort != nil || viot != nil { return .acpi }
        if let tree = deviceTree, !tree.pciHosts.isEmpty { return .deviceTree }
        return nil
    }

    public enum PCIRouteSource: Sendable, Hashable {
        case acpi
        case deviceTree
    }

    /// What declares an IOMMU, in words (`an ACPI DMAR table`, `the device tree's iommu-map`); empty
    /// when nothing does.
    public var declarations: [String] {
        var found: [String] = []
        if dmar != nil { found.append("an ACPI DMAR table (Intel VT-d)") }
        if ivrs != nil { found.append("an ACPI IVRS table (AMD-Vi)") }
        if iort != nil { found.append("an ACPI IORT table (Arm SMMU)") }
        if viot != nil { found.append("an ACPI VIOT table (virtio-iommu)") }
        if let users = deviceTree?.users, !users.isEmpty {
            found.append("the device tree (\(users.prefix(3).joined(separator: ", ")) route DMA through an IOMMU)")
        }
        return found
    }
}

/// A table that exists; its bytes when we could read them (root only on a live system).
public struct FirmwareTable: Sendable, Hashable {
    public var bytes: [UInt8]?
    public init(bytes: [UInt8]?) { self.bytes = bytes }
}

/// From `proc/iomem`: where RAM ends, which decides whether a 32-bit DMA mask reaches all of it.
public struct PhysicalMemoryLayout: Sendable, Hashable {
    /// Inclusive end of the highest `System RAM` range; nil when unreadable or hidden (non-root
    /// readers see all addresses as zero).
    public var topOfRAM: UInt64?
    public init(topOfRAM: UInt64? = nil) { self.topOfRAM = topOfRAM }
}
