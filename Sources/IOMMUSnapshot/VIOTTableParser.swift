/// The ACPI Virtual I/O Translation table (`sys/firmware/acpi/tables/VIOT`): which endpoints a
/// paravirtual IOMMU (virtio-iommu) translates for.
///
/// Layout from the VIOT specification and the kernel's `include/acpi/actbl3.h`
/// (`struct acpi_table_viot`, `acpi_viot_header`, `acpi_viot_pci_range`, `acpi_viot_mmio`,
/// `acpi_viot_virtio_iommu_pci`, `acpi_viot_virtio_iommu_mmio`), as `drivers/acpi/viot.c` reads it.
public struct VIOTTable: Sendable, Hashable {
    public var nodes: [Node]
    public init(nodes: [Node]) { self.nodes = nodes }

    /// The node at a byte offset from the table's start (what `output_node` holds).
    public func node(at offset: UInt16) -> Node? { nodes.first { $0.offset == offset } }

    public struct Node: Sendable, Hashable {
        public var offset: UInt16
        public var kind: Kind
        public init(offset: UInt16, kind: Kind) {
            self.offset = offset
            self.kind = kind
        }
    }

    public enum Kind: Sendable, Hashable {
        /// Type 1: PCI functions `bdfStart…bdfEnd` of segments `segmentStart…segmentEnd`, translated
        /// by the IOMMU node at `outputNode` with endpoint IDs from `endpointStart`.
        case pciRange(endpointStart: UInt32, segmentStart: UInt16, segmentEnd: UInt16, bdfStart: UInt16, bdfEnd: UInt16, outputNode: UInt16)
        /// Type 2: one platform device by its register base.
        case mmioEndpoint(endpoint: UInt32, base: UInt64, outputNode: UInt16)
        /// Type 3: a virtio-iommu that is a PCI function.
        case virtioIOMMUPCI(segment: UInt16, bdf: UInt16)
        /// Type 4: a virtio-iommu on virtio-mmio.
        case virtioIOMMUMMIO(base: UInt64)
        case other(type: UInt8)
    }
}

public enum VIOTTableParser {
    static let headerLength = 48
    static let maximumNodes = 4096

    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> VIOTTable {
        let reader = ACPIReader(bytes)
        try reader.expectSignature("VIOT", minimumLength: headerLength)
        let end = try reader.declaredLength(minimum: headerLength)
        let count = Int(reader.u16(36))
        guard count <= maximumNodes else { throw ParseError("\(count) nodes; at most \(maximumNodes)") }
        var offset = Int(reader.u16(38))
        guard count == 0 || offset >= headerLength else { throw ParseError("node array at \(offset), inside the header") }
        var nodes: [VIOTTable.Node] = []
        for _ in 0..<count {
            guard offset + 4 <= end else { throw ParseError("node at \(offset) runs past the table end \(end)") }
            // Nodes name each other by 16-bit offsets; one beyond them cannot be referred to.
            guard let nodeOffset = UInt16(exactly: offset) else { throw ParseError("node at \(offset), beyond a 16-bit offset") }
            let type = bytes[offset]
            let length = Int(reader.u16(offset + 2))
            guard length >= 4, offset + length <= end else {
                throw ParseError("node at \(offset) has length \(length), past the table end \(end)")
            }
            // Each node at least its struct's size (24, 24, 16, 16 bytes): viot.c refuses a shorter
            // one, and a short PCI range or MMIO endpoint ends its parse of the table.
            func need(_ size: Int, _ what: String) throws(ParseError) {
                guard length >= size else { throw ParseError("\(what) node at \(offset) is \(length) bytes; at least \(size)") }
            }
            let kind: VIOTTable.Kind
            switch type {
            case 1:
                try need(24, "PCI range")
                let segmentStart = reader.u16(offset + 8), segmentEnd = reader.u16(offset + 10)
                let bdfStart = reader.u16(offset + 12), bdfEnd = reader.u16(offset + 14)
                guard segmentStart <= segmentEnd, bdfStart <= bdfEnd else {
                    throw ParseError("PCI range node at \(offset) ends before it starts")
                }
                kind = .pciRange(
                    endpointStart: reader.u32(offset + 4), segmentStart: segmentStart, segmentEnd: segmentEnd, bdfStart: bdfStart,
                    bdfEnd: bdfEnd, outputNode: reader.u16(offset + 16))
            case 2:
                try need(24, "MMIO endpoint")
                kind = .mmioEndpoint(endpoint: reader.u32(offset + 4), base: reader.u64(offset + 8), outputNode: reader.u16(offset + 16))
            case 3:
                try need(16, "virtio-iommu PCI")
                kind = .virtioIOMMUPCI(segment: reader.u16(offset + 4), bdf: reader.u16(offset + 6))
            case 4:
                try need(16, "virtio-iommu MMIO")
                kind = .virtioIOMMUMMIO(base: reader.u64(offset + 8))
            default:
                kind = .other(type: type)
            }
            nodes.append(VIOTTable.Node(offset: nodeOffset, kind: kind))
            offset += length
        }
        return VIOTTable(nodes: nodes)
    }
}
