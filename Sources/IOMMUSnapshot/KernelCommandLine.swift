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
        var word: [UInt8] = []
        var inQuotes = false
        func flush() {
            guard !word.isEmpty else { return }
            // parse_args treats '-' and '_' in parameter names alike.
            if let equals = word.firstIndex(of: 0x3d) {
                parameters.append(
                    Parameter(key: Self.normalized(word[..<equals]), value: String(decoding: word[(equals + 1)...], as: UTF8.self)))
            } else {
                parameters.append(Parameter(key: Self.normalized(word[...]), value: nil))
            }
            word.removeAll(keepingCapacity: true)
        }
        for byte in raw.utf8 {
            if byte == 0x22 { inQuotes.toggle(); continue }
            if (byte == 0x20 || byte == 0x0a || byte == 0x09) && !inQuotes { flush() } else { word.append(byte) }
        }
        flush()
        self.parameters = parameters
    }

    static func normalized(_ key: ArraySlice<UInt8>) -> String {
        String(decoding: key.map { $0 == 0x2d ? 0x5f : $0 }, as: UTF8.self)
    }

    /// The last value given for `key` (`-` and `_` alike); nil if absent or bare.
    public func value(of key: String) -> String? {
        let wanted = key.replacingHyphensWithUnderscores()
        return parameters.last { $0.key == wanted }?.value
    }

    public func contains(_ key: String) -> Bool {
        let wanted = key.replacingHyphensWithUnderscores()
        return parameters.contains { $0.key == wanted }
    }

    /// Every comma-separated option given to `key` across all its occurrences, in order
    /// (`intel_iommu=on,igfx_off`, `iommu=pt`).
    public func options(of key: String) -> [String] {
        let wanted = key.replacingHyphensWithUnderscores()
        return parameters.filter { $0.key == wanted }.flatMap { ($0.value ?? "").split(separator: ",").map(String.init) }
    }
}

extension String {
    /// The parameter name as the kernel compares it (`parameq()`): every hyphen an underscore.
    func replacingHyphensWithUnderscores() -> String {
        KernelCommandLine.normalized(Array(utf8)[...])
    }
}
