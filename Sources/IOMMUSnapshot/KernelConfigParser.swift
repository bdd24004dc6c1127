/// The IOMMU-relevant part of a kernel build configuration (`boot/config-<release>`).
public struct KernelConfig: Sendable, Hashable {
    /// `CONFIG_X=value` entries (value without quotes); `# CONFIG_X is not set` is stored as "n".
    public var options: [String: String]
    public init(options: [String: String]) { self.options = options }

    /// True for `=y`; nil when the option is not mentioned at all.
    public func isEnabled(_ name: String) -> Bool? {
        options[name].map { $0 == "y" }
    }
}

public enum KernelConfigParser {
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> KernelConfig {
        let text = try SysfsText.text(bytes)
        var options: [String: String] = [:]
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty { continue }
            if line.hasPrefix("# CONFIG_"), line.hasSuffix(" is not set") {
                options[String(line.dropFirst(2).dropLast(11))] = "n"
            } else if line.hasPrefix("#") {
                continue
            } else if line.hasPrefix("CONFIG_"), let equals = line.firstIndex(of: "=") {
                var value = line[line.index(after: equals)...]
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
                options[String(line[..<equals])] = String(value)
            } else {
                throw ParseError("line \(lineNumber): neither CONFIG_X=value nor a comment")
            }
        }
        return KernelConfig(options: options)
    }
}
