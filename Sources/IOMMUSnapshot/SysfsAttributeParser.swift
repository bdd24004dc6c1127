/// Numeric sysfs attributes: `vendor` (`0x8086`), `class` (`0x060100`), `dma_mask_bits` (`64`), `removable`.
public enum SysfsAttributeParser {
    /// `0x%04x`-style ids; `bits` bounds the value (16 for ids, 24 for class, 8 for revision).
    public static func hexID(_ bytes: [UInt8], bits: Int) throws(ParseError) -> UInt64 {
        let line = try SysfsText.singleLine(bytes)
        guard line.hasPrefix("0x"), line.count > 2, let value = UInt64(line.dropFirst(2), radix: 16) else {
            throw ParseError("expected a 0x-prefixed hex number, found \(quoted(line))")
        }
        guard bits >= 64 || value >> UInt64(bits) == 0 else { throw ParseError("\(line) is wider than \(bits) bits") }
        return value
    }

    /// A hex register without prefix, as `intel-iommu/cap` prints it (`d2008c22260206`).
    public static func hexRegister(_ bytes: [UInt8]) throws(ParseError) -> UInt64 {
        let line = try SysfsText.singleLine(bytes)
        let digits = line.hasPrefix("0x") ? line.dropFirst(2) : line
        guard !digits.isEmpty, digits.count <= 16, let value = UInt64(digits, radix: 16) else {
            throw ParseError("expected a hex register, found \(quoted(line))")
        }
        return value
    }

    /// Hex registers separated by colons, as `amd-iommu/features` prints EFR and EFR2 (`29d3:0`);
    /// older kernels print one.
    public static func hexRegisters(_ bytes: [UInt8]) throws(ParseError) -> [UInt64] {
        let line = try SysfsText.singleLine(bytes)
        let fields = line.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count <= 4 else { throw ParseError("expected at most 4 colon-separated hex registers, found \(quoted(line))") }
        var registers: [UInt64] = []
        for field in fields {
            guard !field.isEmpty, field.count <= 16, let value = UInt64(field, radix: 16) else {
                throw ParseError("expected colon-separated hex registers, found \(quoted(line))")
            }
            registers.append(value)
        }
        return registers
    }

    /// A decimal count such as `dma_mask_bits`; `range` bounds it.
    public static func decimal(_ bytes: [UInt8], range: ClosedRange<Int>) throws(ParseError) -> Int {
        let line = try SysfsText.singleLine(bytes)
        guard let value = Int(line), range.contains(value) else {
            throw ParseError("expected a number in \(range.lowerBound)…\(range.upperBound), found \(quoted(line))")
        }
        return value
    }

    /// A module's boolean parameter (`Y`/`N`) or a 0/1 switch such as `iommu_dma_protection`.
    public static func flag(_ bytes: [UInt8]) throws(ParseError) -> Bool {
        let line = try SysfsText.singleLine(bytes)
        switch line {
        case "Y", "1": return true
        case "N", "0": return false
        default: throw ParseError("expected Y, N, 1 or 0, found \(quoted(line))")
        }
    }

    public static func removable(_ bytes: [UInt8]) throws(ParseError) -> Removable {
        let line = try SysfsText.singleLine(bytes)
        guard let value = Removable(rawValue: String(line)) else {
            throw ParseError("expected removable, fixed or unknown, found \(quoted(line))")
        }
        return value
    }

    static func quoted(_ text: Substring) -> String {
        "\"" + (text.count > 40 ? text.prefix(40) + "…" : text) + "\""
    }
}
