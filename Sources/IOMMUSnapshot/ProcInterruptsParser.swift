/// `proc/interrupts`: which interrupt chip delivers each numbered interrupt. Only the chip matters
/// here: x86 names a chip behind an interrupt-remapping unit `IR-…` (`IR-IO-APIC`, `IR-PCI-MSI`,
/// `IR-PCI-MSIX-0000:00:1f.6`), so the file shows whether remapping is in use, not just possible.
public enum ProcInterruptsParser {
    /// Lines of a machine with thousands of interrupts stay far below this.
    static let lineLimit = 65_536

    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> InterruptTable {
        let text = try SysfsText.text(bytes)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)[...]
        guard let header = lines.popFirst() else { throw ParseError("empty file") }
        let cpus = header.split(separator: " ", omittingEmptySubsequences: true)
        guard !cpus.isEmpty, cpus.allSatisfy({ $0.hasPrefix("CPU") }) else {
            throw ParseError("the first line names no CPU columns (expected CPU0 CPU1 …)")
        }
        guard lines.count <= lineLimit else { throw ParseError("more than \(lineLimit) lines") }
        var chips: [InterruptTable.Line] = []
        for (index, line) in lines.enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let label = fields.first, label.hasSuffix(":") else {
                throw ParseError("line \(index + 2) does not start with an interrupt label and a colon")
            }
            // Named rows (NMI:, LOC:, ERR:) count events, not chips.
            guard let number = Int(label.dropLast()), number >= 0 else { continue }
            // A count per CPU, then the chip; a row may stop early when the chip has no name.
            let rest = fields.dropFirst().drop { $0.allSatisfy(\.isNumber) }
            guard let chip = rest.first else { continue }
            chips.append(InterruptTable.Line(number: number, chip: String(chip)))
        }
        return InterruptTable(lines: chips)
    }
}

/// The numbered rows of `proc/interrupts`.
public struct InterruptTable: Sendable, Hashable {
    public struct Line: Sendable, Hashable {
        public var number: Int
        /// `IR-PCI-MSI`, `IO-APIC`, `DMAR-MSI`, `ITS-MSI`, `GICv3` …
        public var chip: String

        public init(number: Int, chip: String) {
            self.number = number
            self.chip = chip
        }
    }

    public var lines: [Line]

    public init(lines: [Line]) { self.lines = lines }
}
