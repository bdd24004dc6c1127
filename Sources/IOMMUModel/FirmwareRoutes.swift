import IOMMUSnapshot

/// Where the firmware sends a PCI requester ID's DMA on Arm and virtio-iommu platforms: to which
/// IOMMU, as which ID, or past every IOMMU. The kernel asks the same question when it configures a
/// device (`acpi_iommu_configure_id()`: the IORT, then the VIOT; `of_iommu_configure()` on a device
/// tree), and a device only gets an IOMMU group when the answer names an IOMMU
/// (docs/kernel-rules.md#a2).
public struct FirmwareRoutes: Sendable {
    public enum Source: Sendable, Hashable {
        case acpi(iort: IORTTable?, viot: VIOTTable?)
        case deviceTree(DeviceTreeIOMMUs)
    }

    /// nil when there is nothing to answer from: an x86 machine, or an IORT/VIOT that exists but
    /// could not be read or decoded (then nothing is known, and nothing may be claimed).
    public let source: Source?

    public init(source: Source?) { self.source = source }

    /// The firmware's answer for `snapshot`: the ACPI tables when either exists (an Arm ACPI boot has
    /// no device tree in sysfs), else the device tree when it describes a PCI host bridge.
    public init(_ snapshot: Snapshot, iort: IORTTable?, viot: VIOTTable?) {
        let firmware = snapshot.firmware
        switch firmware.pciRouteSource {
        case .acpi?:
            let iortKnown = firmware.iort == nil || iort != nil
            let viotKnown = firmware.viot == nil || viot != nil
            source = iortKnown && viotKnown ? .acpi(iort: iort, viot: viot) : nil
        case .deviceTree?: source = firmware.deviceTree.map(Source.deviceTree)
        case nil: source = nil
        }
    }

    /// Why `route` answers nil, in words.
    public var unknownReason: String {
        switch source {
        case .deviceTree: "the device tree has no PCI host bridge node for its domain within the two levels iommu-watch reads"
        case .acpi, nil: "the IORT or VIOT that says so is missing, unreadable (root only) or undecodable"
        }
    }

    /// Where a PCI function's own requester ID goes; nil when not known.
    public func route(of address: PCIAddress) -> FirmwareRoute? { route(domain: address.domain, requesterID: address.requesterID) }

    /// Where requester ID `requesterID` of PCI domain `domain` goes; nil when not known.
    public func route(domain: UInt32, requesterID: UInt16) -> FirmwareRoute? {
        switch source {
        case nil: return nil
        case .acpi(let iort, let viot):
            // acpi_iommu_configure_id(): the IORT first; the VIOT only when the IORT finds no IOMMU.
            let fromIORT = iort.map { Self.iortRoute($0, domain: domain, requesterID: requesterID) }
            if case .translated = fromIORT { return fromIORT }
            let fromVIOT = viot.map { Self.viotRoute($0, domain: domain, requesterID: requesterID) }
            if case .translated = fromVIOT { return fromVIOT }
            return fromIORT ?? fromVIOT
        case .deviceTree(let tree):
            return Self.deviceTreeRoute(tree, domain: domain, requesterID: requesterID)
        }
    }

    /// `iort_node_map_id()` from the root complex of the segment: follow ID mappings until an SMMU
    /// node (at most 32 hops, as the kernel), else the ID reaches no IOMMU.
    static func iortRoute(_ table: IORTTable, domain: UInt32, requesterID: UInt16) -> FirmwareRoute {
        let rid = Self.words(requesterID)
        guard
            var node = table.nodes.first(where: { node in
                if case .rootComplex(let segment) = node.kind { segment == domain } else { false }
            })
        else { return .bypass("the IORT has no root complex node for PCI segment \(domain)") }
        var id = UInt32(requesterID)
        for _ in 0..<32 {
            if node.kind.isIOMMU { return .translated(by: FirmwareIOMMU(iortNode: node), id: id) }
            guard let (mapping, output) = mapping(of: node, id: id) else {
                return .bypass(
                    "the IORT maps \(rid) to no IOMMU: no ID mapping of the \(node.kindName) node takes ID 0x\(Hex.string(UInt64(id), width: 1))"
                )
            }
            guard let next = table.node(at: mapping.outputReference) else {
                return .bypass("the IORT maps \(rid) to offset \(mapping.outputReference), where there is no node")
            }
            guard next.kind.isIOMMU || !next.mappings.isEmpty else {
                return .bypass("the IORT maps \(rid) to the \(next.kindName) node, not to an SMMU")
            }
            node = next
            id = output
        }
        return .bypass("the IORT's mappings for \(rid) go round in circles")
    }

    /// `iort_id_map()` over a node's mappings, with the kernel's handling of tables that store the
    /// number of IDs instead of that number minus one: a match on a range's last ID is kept only as
    /// a fallback, and a later range starting at that ID supersedes it.
    static func mapping(of node: IORTTable.Node, id: UInt32) -> (IORTTable.IDMapping, UInt32)? {
        var fallback: (IORTTable.IDMapping, UInt32)?
        for mapping in node.mappings {
            if mapping.isSingleMapping {
                switch node.kind {
                case .rootComplex, .namedComponent: return (mapping, mapping.outputBase)
                default: continue  // "SINGLE MAPPING flag not allowed for node type", skipped
                }
            }
            let last = UInt64(mapping.inputBase) + UInt64(mapping.idCount)
            guard id >= mapping.inputBase, UInt64(id) <= last else { continue }
            if fallback != nil, id != mapping.inputBase { continue }
            let output = mapping.outputBase &+ (id - mapping.inputBase)
            if mapping.idCount > 0, UInt64(id) == last, fallback == nil {
                fallback = (mapping, output)
                continue
            }
            return (mapping, output)
        }
        return fallback
    }

    /// `viot_pci_dev_iommu_init()`: the first PCI range holding the segment and requester ID, to its
    /// virtio-iommu; `viot_dev_iommu_init()` refuses the virtio-iommu itself. The kernel's list is
    /// built by head insertion, so of overlapping ranges the last in the table wins.
    static func viotRoute(_ table: VIOTTable, domain: UInt32, requesterID: UInt16) -> FirmwareRoute {
        let rid = Self.words(requesterID)
        for node in table.nodes.reversed() {
            guard case .pciRange(let start, let segmentStart, let segmentEnd, let bdfStart, let bdfEnd, let output) = node.kind,
                UInt32(segmentStart) <= domain, domain <= UInt32(segmentEnd), bdfStart <= requesterID, requesterID <= bdfEnd
            else { continue }
            guard let target = table.node(at: output) else {
                return .bypass("the VIOT sends \(rid) to offset \(output), where there is no node")
            }
            let iommu: FirmwareIOMMU
            switch target.kind {
            case .virtioIOMMUPCI(let segment, let bdf):
                if UInt32(segment) == domain && bdf == requesterID { return .bypass("it is the virtio-iommu the VIOT names") }
                iommu = FirmwareIOMMU(
                    name: "the virtio-iommu at \(PCIAddress(domain: UInt32(segment), requesterID: bdf))", source: "VIOT",
                    pciAddress: PCIAddress(domain: UInt32(segment), requesterID: bdf))
            case .virtioIOMMUMMIO(let base):
                iommu = FirmwareIOMMU(name: "the virtio-iommu at 0x\(Hex.string(base, width: 1))", source: "VIOT", pciAddress: nil)
            default:
                return .bypass("the VIOT sends \(rid) to a node that is not a virtio-iommu")
            }
            let endpoint = (domain - UInt32(segmentStart)) << 16 &+ UInt32(requesterID - bdfStart) &+ start
            return .translated(by: iommu, id: endpoint)
        }
        return .bypass("no VIOT PCI range holds \(rid) of segment \(domain)")
    }

    /// `of_map_id()` on the host bridge's `iommu-map`: the first entry holding the masked ID; none
    /// means the device is not behind an IOMMU.
    static func deviceTreeRoute(_ tree: DeviceTreeIOMMUs, domain: UInt32, requesterID: UInt16) -> FirmwareRoute? {
        let rid = Self.words(requesterID)
        guard let host = tree.pciHost(domain: domain) else { return nil }
        guard let map = host.iommuMap else { return .bypass("the device tree's \(host.path) has no iommu-map") }
        let mask = host.iommuMapMask ?? .max
        let masked = mask & UInt32(requesterID)
        for entry in map {
            // of_map_id() gives up at the first entry whose base the mask would cut, matching or not.
            guard entry.ridBase & ~mask == 0 else {
                return .bypass("the device tree's \(host.path) iommu-map is rejected: a base outside iommu-map-mask")
            }
            // u32 arithmetic, as the kernel: a length that wraps makes the entry match nothing.
            guard masked >= entry.ridBase, masked < entry.ridBase &+ entry.length else { continue }
            guard let node = tree.iommu(phandle: entry.phandle) else {
                return .bypass("the device tree's \(host.path) iommu-map names phandle \(entry.phandle), which no IOMMU node has")
            }
            return .translated(by: FirmwareIOMMU(deviceTreeNode: node), id: masked - entry.ridBase &+ entry.iommuBase)
        }
        return .bypass("the device tree's \(host.path) iommu-map has no entry for \(rid)")
    }
}

extension FirmwareRoutes {
    /// `requester ID 0x0208`.
    public static func words(_ requesterID: UInt16) -> String { "requester ID 0x\(Hex.string(UInt64(requesterID), width: 4))" }
}

/// The firmware's answer for one requester ID.
public enum FirmwareRoute: Sendable, Hashable {
    /// Translated by this IOMMU, which knows the device by `id` (an SMMU StreamID, a virtio-iommu
    /// endpoint ID).
    case translated(by: FirmwareIOMMU, id: UInt32)
    /// No IOMMU translates it; why, in words.
    case bypass(String)

    public var iommu: FirmwareIOMMU? {
        if case .translated(let iommu, _) = self { iommu } else { nil }
    }
}

/// An IOMMU as the firmware names it.
public struct FirmwareIOMMU: Sendable, Hashable {
    /// `the SMMUv3 at 0x9050000`, `the virtio-iommu at 0000:00:07.0`, `smmuv3@9050000`.
    public var name: String
    /// `IORT`, `VIOT`, `device tree`.
    public var source: String
    /// The PCI function of a virtio-iommu.
    public var pciAddress: PCIAddress?
    /// The SMMU's node in the IORT (what RMR mappings refer to).
    public var iortNodeOffset: UInt32?

    public init(name: String, source: String, pciAddress: PCIAddress?, iortNodeOffset: UInt32? = nil) {
        self.name = name
        self.source = source
        self.pciAddress = pciAddress
        self.iortNodeOffset = iortNodeOffset
    }

    init(iortNode node: IORTTable.Node) {
        switch node.kind {
        case .smmuV3(let base): name = "the SMMUv3 at 0x\(Hex.string(base, width: 1))"
        case .smmu(let base): name = "the SMMU at 0x\(Hex.string(base, width: 1))"
        default: name = "the \(node.kindName) node"
        }
        source = "IORT"
        pciAddress = nil
        iortNodeOffset = node.offset
    }

    init(deviceTreeNode node: DeviceTreeIOMMUs.IOMMUNode) {
        name = node.path + (node.compatible.first.map { " (\($0))" } ?? "")
        source = "device tree"
        pciAddress = nil
        iortNodeOffset = nil
    }
}

extension ModelContext {
    /// The requester IDs a function's DMA also carries, nearest bridge first
    /// (`pci_for_each_dma_alias()`: a PCIe-to-PCI bridge's secondary bus with devfn 0, the device's
    /// own bus when it sits right behind it; another bridge's own ID).
    public func aliasRequesterIDs(of address: PCIAddress) -> [(bridge: PCIAddress, requesterID: UInt16)] {
        topology.dmaAliasBridges(of: address).map { bridge, hop in
            let alias =
                hop == .pcieToPCIBridge && snapshot.device(address)?.parent == bridge ? UInt16(address.bus) << 8 : bridge.requesterID
            return (bridge, alias)
        }
    }

    /// The IDs the firmware gives those alias requester IDs, as far as they reach an IOMMU.
    public func firmwareIDsOfAliases(_ address: PCIAddress) -> [UInt32] {
        aliasRequesterIDs(of: address).compactMap { _, alias in
            if case .translated(_, let id)? = routes.route(domain: address.domain, requesterID: alias) { return id }
            return nil
        }
    }
}

extension IORTTable.Node {
    var kindName: String {
        switch kind {
        case .itsGroup: "ITS group"
        case .namedComponent(let name): "named component \(name)"
        case .rootComplex(let segment): "root complex (segment \(segment))"
        case .smmu: "SMMU"
        case .smmuV3: "SMMUv3"
        case .performanceMonitor: "PMCG"
        case .reservedMemory: "RMR"
        case .other: "type \(rawType)"
        }
    }
}

extension PCIAddress {
    init(domain: UInt32, requesterID: UInt16) {
        self.init(domain: domain, bus: UInt8(requesterID >> 8), device: UInt8((requesterID >> 3) & 0x1f), function: UInt8(requesterID & 7))
    }
}
