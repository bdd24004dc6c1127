/// `sys/kernel/iommu_groups/N/reserved_regions`: lines of `0x%016llx 0x%016llx %s\n`.
/// An empty file is valid (groups whose members have no IOMMU API, e.g. VFIO no-IOMMU).
public enum ReservedRegionsParser {
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> [ReservedRegion] {
        if let nul = bytes.firstIndex(of: 0) { throw ParseError("contains a NUL byte at offset \(nul)") }
        guard !bytes.isEmpty else { return [] }
        guard bytes.last == 0x0a else { throw ParseError("last line is not terminated: the file is truncated") }
        var regions: [ReservedRegion] = []
        var lineNumber = 0
        for line in bytes.split(separator: 0x0a, omittingEmptySubsequences: false).dropLast() {
            lineNumber += 1
            let fields = line.split(separator: 0x20, omittingEmptySubsequences: false)
            guard fields.count == 3 else { throw ParseError("line \(lineNumber): expected start, end and type separated by single spaces") }
            guard let start = address(fields[0]), let end = address(fields[1]) else {
                throw ParseError("line \(lineNumber): addresses must be 0x and 16 hex digits")
            }
            guard start <= end else {
                throw ParseError("line \(lineNumber): end \(ReservedRegion.format(end)) is below start \(ReservedRegion.format(start))")
            }
            guard let type = ReservedRegionType(rawValue: String(decoding: fields[2], as: UTF8.self)) else {
                throw ParseError("line \(lineNumber): unknown region type; the kernel prints direct, direct-relaxable, reserved or msi")
            }
            regions.append(ReservedRegion(start: start, end: end, type: type))
        }
        return regions
    }

    private static func address(_ field: ArraySlice<UInt8>) -> UInt64? {
        guard field.count == 18, field.first == 0x30, field[field.startIndex + 1] == 0x78 else { return nil }
        // The kernel prints lower case (`%016llx`).
        return Hex.value(field.dropFirst(2), upperCase: false)
    }
}
