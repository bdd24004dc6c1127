/// `proc/cmdline`, split the way the kernel's `parse_args()` does: words separated by spaces, double
/// quotes group a value, `key=value` or a bare `key`. Later duplicates win for `value(of:)`, as with
/// `early_param` handlers that simply run again.
public struct KernelCommandLine: Sendable, Hashable {
    public struct Parameter: Sendable, Hashable {
        public var key: String
        public var value: String?
    }

    /// The line as read, without the trailing newline.
    public var raw: String
    public var parameters: [Parameter]

    public init(_ raw: String) {
        self.raw = raw
        var parameters: [Parameter] = []
        var word = ""
        var inQuotes = false
        func flush() {
            guard !word.isEmpty else { return }
            if let equals = word.firstIndex(of: "=") {
                parameters.append(Parameter(key: String(word[..<equals]), value: String(word[word.index(after: equals)...])))
            } else {
                parameters.append(Parameter(key: word, value: nil))
            }
            word = ""
        }
        for character in raw {
            if character == "\"" { inQuotes.toggle(); continue }
            if (character == " " || character == "\n" || character == "\t") && !inQuotes { flush() } else { word.append(character) }
        }
        flush()
        // parse_args treats '-' and '_' in parameter names alike.
        self.parameters = parameters.map { Parameter(key: $0.key.replacingUnderscores(), value: $0.value) }
    }

    /// The last value given for `key` (`-` and `_` alike); nil if absent or bare.
    public func value(of key: String) -> String? {
        let wanted = key.replacingUnderscores()
        return parameters.last { $0.key == wanted }?.value
    }

    public func contains(_ key: String) -> Bool {
        let wanted = key.replacingUnderscores()
        return parameters.contains { $0.key == wanted }
    }

    /// Every comma-separated option given to `key` across all its occurrences, in order
    /// (`intel_iommu=on,igfx_off`, `iommu=pt`).
    public func options(of key: String) -> [String] {
        let wanted = key.replacingUnderscores()
        return parameters.filter { $0.key == wanted }.flatMap { ($0.value ?? "").split(separator: ",").map(String.init) }
    }
}

/// `proc/cmdline`: one line.
public enum ProcCmdlineParser {
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> KernelCommandLine {
        let text = try SysfsText.text(bytes)
        let line = text.hasSuffix("\n") ? String(text.dropLast()) : text
        guard !line.contains("\n") else { throw ParseError("more than one line") }
        return KernelCommandLine(line)
    }
}

extension String {
    func replacingUnderscores() -> String {
        String(map { $0 == "-" ? "_" : $0 })
    }
}
