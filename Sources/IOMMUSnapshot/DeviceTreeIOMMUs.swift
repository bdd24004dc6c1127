/// What a flattened device tree (`sys/firmware/devicetree/base`) says about IOMMUs: the IOMMU
/// nodes (`#iommu-cells`), the PCI host bridges with their `iommu-map`, and the nodes that route
/// their DMA through an IOMMU with `iommus`.
///
/// The bindings are the kernel's `Documentation/devicetree/bindings/pci/pci-iommu.txt` and
/// `iommu/iommu.txt`; `of_map_id()` and `of_iommu_configure()` read them.
public struct DeviceTreeIOMMUs: Sendable, Hashable {
    public var iommus: [IOMMUNode]
    public var pciHosts: [PCIHost]
    /// Node paths (relative to `base`) with `iommus` or `iommu-map`, for the words "the device tree
    /// routes … through an IOMMU".
    public var users: [String]

    public init(iommus: [IOMMUNode] = [], pciHosts: [PCIHost] = [], users: [String] = []) {
        self.iommus = iommus
        self.pciHosts = pciHosts
        self.users = users
    }

    /// The IOMMU node a phandle names.
    public func iommu(phandle: UInt32) -> IOMMUNode? { iommus.first { $0.phandle == phandle } }

    /// The host bridge of a PCI domain: the one whose `linux,pci-domain` says so, else the only one
    /// when none says (the kernel then numbers domains itself, and one bridge gets domain 0).
    public func pciHost(domain: UInt32) -> PCIHost? {
        if let host = pciHosts.first(where: { $0.domain == domain }) { return host }
        if pciHosts.count == 1, pciHosts[0].domain == nil, domain == 0 { return pciHosts[0] }
        return nil
    }

    /// A node with `#iommu-cells`: an IOMMU that others refer to by `phandle`.
    public struct IOMMUNode: Sendable, Hashable {
        public var path: String
        public var phandle: UInt32?
        public var compatible: [String]
        public init(path: String, phandle: UInt32?, compatible: [String]) {
            self.path = path
            self.phandle = phandle
            self.compatible = compatible
        }
    }

    /// A node with `device_type = "pci"`.
    public struct PCIHost: Sendable, Hashable {
        public var path: String
        /// `linux,pci-domain`
        public var domain: UInt32?
        /// `iommu-map`; nil when the bridge has none (its functions are then not behind an IOMMU).
        public var iommuMap: [IOMMUMapEntry]?
        /// `iommu-map-mask`: ANDed with the requester ID before the lookup.
        public var iommuMapMask: UInt32?

        public init(path: String, domain: UInt32?, iommuMap: [IOMMUMapEntry]?, iommuMapMask: UInt32?) {
            self.path = path
            self.domain = domain
            self.iommuMap = iommuMap
            self.iommuMapMask = iommuMapMask
        }
    }

    /// One `iommu-map` entry: requester IDs `ridBase…ridBase + length - 1` go to the IOMMU `phandle`
    /// as IDs from `iommuBase`.
    public struct IOMMUMapEntry: Sendable, Hashable {
        public var ridBase: UInt32
        public var phandle: UInt32
        public var iommuBase: UInt32
        public var length: UInt32
        public init(ridBase: UInt32, phandle: UInt32, iommuBase: UInt32, length: UInt32) {
            self.ridBase = ridBase
            self.phandle = phandle
            self.iommuBase = iommuBase
            self.length = length
        }
    }
}

/// Device-tree property values as `sys/firmware/devicetree/base` shows them: raw big-endian cells,
/// or NUL-terminated strings.
public enum DeviceTreePropertyParser {
    /// A property of 32-bit big-endian cells.
    public static func cells(_ bytes: [UInt8]) throws(ParseError) -> [UInt32] {
        guard bytes.count % 4 == 0 else { throw ParseError("\(bytes.count) bytes, not a whole number of 32-bit cells") }
        return stride(from: 0, to: bytes.count, by: 4).map { index -> UInt32 in
            bytes[index..<(index + 4)].reduce(UInt32(0)) { value, byte in value << 8 | UInt32(byte) }
        }
    }

    /// A property of exactly one cell (`phandle`, `linux,pci-domain`, `iommu-map-mask`).
    public static func cell(_ bytes: [UInt8]) throws(ParseError) -> UInt32 {
        let values = try cells(bytes)
        guard values.count == 1 else { throw ParseError("\(values.count) cells; one expected") }
        return values[0]
    }

    /// A string list (`compatible`, `device_type`): NUL-terminated, printable ASCII only, so a name
    /// from an untrusted tree cannot carry control characters.
    public static func strings(_ bytes: [UInt8]) throws(ParseError) -> [String] {
        guard let last = bytes.last, last == 0 else { throw ParseError("a string property ends with NUL") }
        var result: [String] = []
        for piece in bytes.dropLast().split(separator: 0, omittingEmptySubsequences: false) {
            guard !piece.isEmpty, piece.allSatisfy({ (0x20..<0x7f).contains($0) }) else {
                throw ParseError("an empty string or a byte outside printable ASCII")
            }
            result.append(String(decoding: piece, as: UTF8.self))
        }
        return result
    }

    /// `iommu-map`: (rid-base, phandle, iommu-base, length) quadruples. `of_map_id()` takes exactly
    /// one cell for the IOMMU specifier and rejects a length that is not a multiple of four cells.
    public static func iommuMap(_ bytes: [UInt8]) throws(ParseError) -> [DeviceTreeIOMMUs.IOMMUMapEntry] {
        let values = try cells(bytes)
        guard !values.isEmpty, values.count % 4 == 0 else { throw ParseError("\(values.count) cells; iommu-map entries have four") }
        return stride(from: 0, to: values.count, by: 4).map { index in
            DeviceTreeIOMMUs.IOMMUMapEntry(
                ridBase: values[index], phandle: values[index + 1], iommuBase: values[index + 2], length: values[index + 3])
        }
    }
}
