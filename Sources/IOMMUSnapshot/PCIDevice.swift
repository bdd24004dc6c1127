/// One PCI function as `sys/bus/pci/devices/<slot>` shows it. Each field names the file it is read from.
public struct PCIDevice: Sendable, Hashable {
    public var address: PCIAddress
    /// Root-relative path the `sys/bus/pci/devices/<slot>` link resolves to, e.g.
    /// `sys/devices/pci0000:00/0000:00:05.0/0000:02:01.0`.
    public var path: String
    /// PCI functions on the way from the host bridge down to this one (from `path`), nearest last.
    public var upstream: [PCIAddress]
    /// `vendor`, `device`
    public var vendorID: UInt16?
    public var deviceID: UInt16?
    /// `class`: base class, subclass, programming interface (`0x060100`).
    public var classCode: UInt32?
    /// `subsystem_vendor`, `subsystem_device`, `revision`
    public var subsystemVendorID: UInt16?
    public var subsystemDeviceID: UInt16?
    public var revision: UInt8?
    /// `dma_mask_bits`, `consistent_dma_mask_bits`: 32 until a driver asks for more.
    public var dmaMaskBits: Int?
    public var consistentDMAMaskBits: Int?
    /// `removable` (5.12+): external-facing, which the kernel treats as untrusted.
    public var removable: Removable?
    /// `boot_vga`: the display the firmware booted on (VGA-class devices only).
    public var bootVGA: Bool?
    /// Basename of the `driver` link; nil when unbound.
    public var driver: String?
    /// Basename of the `iommu_group` link.
    public var iommuGroup: Int?
    /// Basename of the `iommu` link: the unit (`dmar0`, `ivhd0`).
    public var iommu: String?
    /// `config`, decoded.
    public var config: PCIConfigSpace?

    public init(address: PCIAddress, path: String, upstream: [PCIAddress]) {
        self.address = address
        self.path = path
        self.upstream = upstream
    }

    /// The upstream bridge this function sits directly behind, if any.
    public var parent: PCIAddress? { upstream.last }
}

/// The `removable` attribute's three words.
public enum Removable: String, Sendable, Hashable, Codable {
    case removable
    case fixed
    case unknown
}
