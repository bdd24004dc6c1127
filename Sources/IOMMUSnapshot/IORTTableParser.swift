/// Arm's ACPI IO Remapping Table (`sys/firmware/acpi/tables/IORT`), decoded as far as the model
/// needs: which nodes exist (root complexes, SMMUs, ITS groups, named components, reserved memory
/// ranges) and how each maps its input IDs to the next node.
///
/// Layout from Arm DEN 0049 and the kernel's `include/acpi/actbl2.h` (`struct acpi_table_iort`,
/// `acpi_iort_node`, `acpi_iort_id_mapping`, `acpi_iort_root_complex`, `acpi_iort_smmu`,
/// `acpi_iort_smmu_v3`, `acpi_iort_rmr`, `acpi_iort_rmr_desc`). Walking the mappings is the
/// model's job (`FirmwareRoutes`), as `iort_node_map_id()` does it.
public struct IORTTable: Sendable, Hashable {
    /// Every node, in table order.
    public var nodes: [Node]

    public init(nodes: [Node]) { self.nodes = nodes }

    /// The node at a byte offset from the table's start: how ID mappings and VIOT-style references
    /// name their target.
    public func node(at offset: UInt32) -> Node? { nodes.first { $0.offset == offset } }

    public struct Node: Sendable, Hashable {
        /// Byte offset from the start of the table (what `output_reference` points at).
        public var offset: UInt32
        public var kind: Kind
        public var rawType: UInt8
        public var revision: UInt8
        public var mappings: [IDMapping]

        public init(offset: UInt32, kind: Kind, rawType: UInt8, revision: UInt8, mappings: [IDMapping]) {
            self.offset = offset
            self.kind = kind
            self.rawType = rawType
            self.revision = revision
            self.mappings = mappings
        }
    }

    public enum Kind: Sendable, Hashable {
        /// Type 0: GIC ITS group, the MSI controller (not an IOMMU).
        case itsGroup
        /// Type 1: a platform device named by its ACPI path.
        case namedComponent(name: String)
        /// Type 2: a PCI host bridge; its mappings take requester IDs.
        case rootComplex(segment: UInt32)
        /// Type 3: SMMU v1 or v2, by its register base.
        case smmu(base: UInt64)
        /// Type 4: SMMUv3, by its register base.
        case smmuV3(base: UInt64)
        /// Type 5: an SMMUv3 performance monitor.
        case performanceMonitor
        /// Type 6: reserved memory ranges that the StreamIDs in its mappings keep using for DMA.
        case reservedMemory(remappingPermitted: Bool, ranges: [MemoryRange])
        /// A type this decoder does not know.
        case other

        /// An SMMU of either version: the node types `iort_node_map_id()` stops at for an IOMMU.
        public var isIOMMU: Bool {
            switch self {
            case .smmu, .smmuV3: true
            default: false
            }
        }
    }

    /// One ID mapping: input IDs `inputBase…inputBase + idCount` (inclusive: the table stores the
    /// number of IDs minus one) map to `outputBase…` in the node at `outputReference`.
    public struct IDMapping: Sendable, Hashable {
        public var inputBase: UInt32
        public var idCount: UInt32
        public var outputBase: UInt32
        public var outputReference: UInt32
        /// Bit 0, single mapping: every input maps to `outputBase` (named components, root complexes).
        public var flags: UInt32

        public init(inputBase: UInt32, idCount: UInt32, outputBase: UInt32, outputReference: UInt32, flags: UInt32) {
            self.inputBase = inputBase
            self.idCount = idCount
            self.outputBase = outputBase
            self.outputReference = outputReference
            self.flags = flags
        }

        public var isSingleMapping: Bool { flags & 1 != 0 }
    }

    /// One RMR memory range descriptor.
    public struct MemoryRange: Sendable, Hashable {
        public var base: UInt64
        public var length: UInt64
        public init(base: UInt64, length: UInt64) {
            self.base = base
            self.length = length
        }
    }
}

public enum IORTTableParser {
    static let headerLength = 48
    static let nodeHeaderLength = 16
    static let mappingLength = 20
    static let rangeLength = 20
    /// Real tables have tens of nodes and mappings; a hostile one cannot make us loop longer than this.
    static let maximumNodes = 4096
    static let maximumMappings = 65536
    static let maximumRanges = 4096

    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> IORTTable {
        let reader = ACPIReader(bytes)
        try reader.expectSignature("IORT", minimumLength: headerLength)
        let end = try reader.declaredLength(minimum: headerLength)
        let count = Int(reader.u32(36))
        guard count <= maximumNodes else { throw ParseError("\(count) nodes; at most \(maximumNodes)") }
        var offset = Int(reader.u32(40))
        guard count == 0 || offset >= headerLength else { throw ParseError("node array at \(offset), inside the header") }
        var nodes: [IORTTable.Node] = []
        var mappingTotal = 0
        for _ in 0..<count {
            guard offset + nodeHeaderLength <= end else { throw ParseError("node at \(offset) runs past the table end \(end)") }
            let type = bytes[offset]
            let length = Int(reader.u16(offset + 1))
            guard length >= nodeHeaderLength, offset + length <= end else {
                throw ParseError("node at \(offset) has length \(length), past the table end \(end)")
            }
            let node = offset..<(offset + length)
            let mappingCount = Int(reader.u32(offset + 8))
            let mappingOffset = Int(reader.u32(offset + 12))
            mappingTotal += mappingCount
            guard mappingTotal <= maximumMappings else { throw ParseError("more than \(maximumMappings) ID mappings") }
            var mappings: [IORTTable.IDMapping] = []
            if mappingCount > 0 {
                guard mappingOffset >= nodeHeaderLength, mappingOffset + mappingCount * mappingLength <= length else {
                    throw ParseError("node at \(offset): \(mappingCount) ID mappings at \(mappingOffset) do not fit its \(length) bytes")
                }
                for index in 0..<mappingCount {
                    let at = offset + mappingOffset + index * mappingLength
                    mappings.append(
                        IORTTable.IDMapping(
                            inputBase: reader.u32(at), idCount: reader.u32(at + 4), outputBase: reader.u32(at + 8),
                            outputReference: reader.u32(at + 12), flags: reader.u32(at + 16)))
                }
            }
            nodes.append(
                IORTTable.Node(
                    offset: UInt32(offset), kind: try kind(type, bytes, node: node, reader: reader), rawType: type,
                    revision: bytes[offset + 3], mappings: mappings))
            offset += length
        }
        return IORTTable(nodes: nodes)
    }

    /// The node's own data, from byte 16 of the node.
    static func kind(_ type: UInt8, _ bytes: [UInt8], node: Range<Int>, reader: ACPIReader) throws(ParseError) -> IORTTable.Kind {
        let data = node.lowerBound + nodeHeaderLength
        func need(_ size: Int, _ what: String) throws(ParseError) {
            guard data + size <= node.upperBound else {
                throw ParseError("\(what) node at \(node.lowerBound) is \(node.count) bytes; at least \(nodeHeaderLength + size)")
            }
        }
        switch type {
        case 0: return .itsGroup
        case 1:
            // Flags (4), memory properties (8), address limit (1), then the NUL-terminated ACPI path.
            try need(13, "named component")
            let nameBytes = bytes[(data + 13)..<node.upperBound].prefix { $0 != 0 }
            return .namedComponent(name: String(decoding: nameBytes, as: UTF8.self))
        case 2:
            // Memory properties (8), ATS attribute (4), PCI segment (4).
            try need(16, "root complex")
            return .rootComplex(segment: reader.u32(data + 12))
        case 3:
            try need(8, "SMMU")
            return .smmu(base: reader.u64(data))
        case 4:
            try need(8, "SMMUv3")
            return .smmuV3(base: reader.u64(data))
        case 5: return .performanceMonitor
        case 6:
            // Flags (4), descriptor count (4), descriptor offset from the node's start (4).
            try need(12, "RMR")
            let flags = reader.u32(data)
            let rangeCount = Int(reader.u32(data + 4))
            let rangeOffset = Int(reader.u32(data + 8))
            guard rangeCount <= maximumRanges else { throw ParseError("RMR node at \(node.lowerBound) has \(rangeCount) ranges") }
            guard rangeCount == 0 || (rangeOffset >= nodeHeaderLength && rangeOffset + rangeCount * rangeLength <= node.count) else {
                throw ParseError(
                    "RMR node at \(node.lowerBound): \(rangeCount) ranges at \(rangeOffset) do not fit its \(node.count) bytes")
            }
            var ranges: [IORTTable.MemoryRange] = []
            for index in 0..<rangeCount {
                let at = node.lowerBound + rangeOffset + index * rangeLength
                let base = reader.u64(at), length = reader.u64(at + 8)
                guard length > 0, base <= UInt64.max - (length - 1) else {
                    throw ParseError(
                        "RMR node at \(node.lowerBound): range \(index) (base \(Hex.string(base, width: 1)), length \(length)) is empty or wraps"
                    )
                }
                ranges.append(IORTTable.MemoryRange(base: base, length: length))
            }
            return .reservedMemory(remappingPermitted: flags & 1 != 0, ranges: ranges)
        default: return .other
        }
    }
}
