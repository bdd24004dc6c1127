/// What the running system shows about DMA and interrupt protection outside the IOMMU groups
/// themselves: interrupt chips, VFIO's interfaces and switches, Thunderbolt's DMA protection.
/// Each is nil when the root does not hold it (a captured tree usually has no `dev/`): not known,
/// which is not the same as off.
public struct PlatformFacts: Sendable, Hashable {
    /// `proc/interrupts`.
    public var interrupts: InterruptTable?
    /// `dev/iommu` exists: the kernel has iommufd. Nil when the root has no `dev/` folder.
    public var hasIOMMUFD: Bool?
    /// Entries in `dev/vfio/devices/` (VFIO device cdevs, used with iommufd). Nil without `dev/`;
    /// zero when the folder is absent.
    public var vfioDeviceFiles: Int?
    /// `sys/module/vfio` exists: VFIO is loaded or built in. Nil when the root has no `sys/module`.
    public var vfioLoaded: Bool?
    /// `sys/module/vfio/parameters/enable_unsafe_noiommu_mode`.
    public var vfioNoIOMMUMode: Bool?
    /// `sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts`.
    public var vfioAllowUnsafeInterrupts: Bool?
    /// `sys/bus/thunderbolt/devices/domainN/iommu_dma_protection`, by domain.
    public var thunderboltDMAProtection: [String: Bool]
    /// The root filesystem's source (`/dev/nvme0n1p2`) and the PCI functions that hold its disk
    /// (through `dm`/`md` slaves); nil when the root does not show them.
    public var rootFilesystem: HostDependency?
    /// Each default-route interface with the PCI functions under it (through bridge ports and bond
    /// members); nil when the root has no `proc/net/route`.
    public var defaultRoute: [HostDependency]?

    public init(
        interrupts: InterruptTable? = nil, hasIOMMUFD: Bool? = nil, vfioDeviceFiles: Int? = nil, vfioLoaded: Bool? = nil,
        vfioNoIOMMUMode: Bool? = nil, vfioAllowUnsafeInterrupts: Bool? = nil, thunderboltDMAProtection: [String: Bool] = [:]
    ) {
        self.interrupts = interrupts
        self.hasIOMMUFD = hasIOMMUFD
        self.vfioDeviceFiles = vfioDeviceFiles
        self.vfioLoaded = vfioLoaded
        self.vfioNoIOMMUMode = vfioNoIOMMUMode
        self.vfioAllowUnsafeInterrupts = vfioAllowUnsafeInterrupts
        self.thunderboltDMAProtection = thunderboltDMAProtection
    }
}

/// Something the host itself runs on, and the PCI functions it would lose with them.
public struct HostDependency: Sendable, Hashable {
    /// `/dev/nvme0n1p2`, `eth0`.
    public var name: String
    public var devices: [PCIAddress]

    public init(name: String, devices: [PCIAddress]) {
        self.name = name
        self.devices = devices
    }
}
