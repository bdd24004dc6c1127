/// The kinds `iommu_group_resv_type_string[]` prints; the order is the kernel's enum order, which
/// breaks ties when two regions start at the same address. Both MSI kinds print `msi`.
public enum ReservedRegionType: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case direct
    case directRelaxable = "direct-relaxable"
    case reserved
    case msi

    var enumOrder: Int {
        switch self {
        case .direct: 0
        case .directRelaxable: 1
        case .reserved: 2
        case .msi: 3
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.enumOrder < rhs.enumOrder }
}

/// One line of `reserved_regions`: `0x%016llx 0x%016llx %s`, start and inclusive end.
public struct ReservedRegion: Sendable, Hashable, Codable {
    public var start: UInt64
    public var end: UInt64
    public var type: ReservedRegionType

    public init(start: UInt64, end: UInt64, type: ReservedRegionType) {
        self.start = start
        self.end = end
        self.type = type
    }

    /// The line exactly as the kernel prints it, without the newline.
    public var kernelLine: String { "\(ReservedRegion.format(start)) \(ReservedRegion.format(end)) \(type.rawValue)" }

    /// `0x` and 16 lower-case hex digits, as the kernel prints addresses here.
    public static func format(_ address: UInt64) -> String { "0x" + Hex.string(address, width: 16) }
}
