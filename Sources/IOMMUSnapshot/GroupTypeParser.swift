/// `sys/kernel/iommu_groups/N/type`: one of the strings `iommu_group_show_type()` prints.
public enum GroupTypeParser {
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> GroupTypeReading {
        let line = try SysfsText.singleLine(bytes)
        guard let type = DomainType(rawValue: String(line)) else {
            throw ParseError(
                "unknown domain type \(SysfsAttributeParser.quoted(line)); the kernel prints blocked, identity, unmanaged, DMA, DMA-FQ or unknown"
            )
        }
        return .value(type, hasNewline: bytes.last == 0x0a)
    }
}
