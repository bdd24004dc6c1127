/// `proc/iomem`: `start-end : name` lines, nested by two-space indents. We need only the highest
/// `System RAM` end. Unprivileged readers see every address as 0 (`kptr_restrict`-like hiding), which
/// is recorded as unknown rather than "no RAM".
public enum IOMemParser {
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> PhysicalMemoryLayout {
        let text = try SysfsText.text(bytes)
        var top: UInt64?
        var sawAddresses = false
        var lineNumber = 0
        for line in text.split(separator: "\n") {
            lineNumber += 1
            let trimmed = line.drop { $0 == " " }
            guard let colon = trimmed.firstRange(of: " : ") else { throw ParseError("line \(lineNumber): expected \"start-end : name\"") }
            let range = trimmed[..<colon.lowerBound].split(separator: "-")
            guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16), start <= end else {
                throw ParseError("line \(lineNumber): expected a hex range start-end")
            }
            if end != 0 { sawAddresses = true }
            if trimmed[colon.upperBound...] == "System RAM" { top = max(top ?? 0, end) }
        }
        return PhysicalMemoryLayout(topOfRAM: sawAddresses ? top : nil)
    }
}
