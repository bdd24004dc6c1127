/// One `sys/kernel/iommu_groups/N/`.
public struct IOMMUGroup: Sendable, Hashable {
    /// N: an allocator id, lowest free first and reused; compare groups by members, not by id.
    public var id: Int
    /// `type`
    public var type: GroupTypeReading
    /// `reserved_regions`, in file order.
    public var reservedRegions: [ReservedRegion]
    /// `name`, present only when a driver named the group (e.g. `vfio-noiommu`).
    public var name: String?
    /// `devices/*`, sorted by name.
    public var members: [GroupMember]
    /// False when `reserved_regions` could not be read or parsed (the error is in `Snapshot.errors`):
    /// the empty `reservedRegions` then says nothing.
    public var reservedRegionsReadable = true

    public init(id: Int, type: GroupTypeReading, reservedRegions: [ReservedRegion], name: String?, members: [GroupMember]) {
        self.id = id
        self.type = type
        self.reservedRegions = reservedRegions
        self.name = name
        self.members = members
    }

    /// A group VFIO made for a device no IOMMU translates (`vfio.enable_unsafe_noiommu_mode`,
    /// `vfio_noiommu_group_alloc()` names it): not an IOMMU group at all.
    public var isVFIONoIOMMU: Bool { name == "vfio-noiommu" }

    /// The PCI members' addresses.
    public var pciMembers: [PCIAddress] { members.compactMap(\.pciAddress) }
}

/// A link in a group's `devices/` folder: PCI functions, but also platform and ACPI devices.
public struct GroupMember: Sendable, Hashable {
    /// The link's name, the kernel's `dev_name()`: `0000:00:1f.2`, `MSFT0201:00`, `AMDI0020:00`.
    public let name: String
    /// The bus the device sits on (basename of its `subsystem` link): `pci`, `platform`, …
    public let bus: String
    /// Root-relative path the link resolves to.
    public let path: String

    /// The name as a PCI address, for PCI members.
    public let pciAddress: PCIAddress?

    public init(name: String, bus: String, path: String) {
        self.name = name
        self.bus = bus
        self.path = path
        pciAddress = bus == "pci" ? PCIAddress(name) : nil
    }
}
