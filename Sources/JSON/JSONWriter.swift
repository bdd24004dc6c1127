/// A small streaming JSON writer with fixed key order, so output is byte-stable across runs and
/// across a root and its snapshot (`scan` on both must print the same bytes). Also writes the daemon's
/// state file and `simulate --format json`; `JSONReader` reads what it writes.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var indent = 0
    private var needsComma: [Bool] = [false]

    public init(reservingCapacity capacity: Int = 1 << 16) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func object(_ key: String? = nil, _ body: (inout JSONWriter) -> Void) {
        container(key, open: "{", close: "}", body)
    }

    public mutating func array(_ key: String? = nil, _ body: (inout JSONWriter) -> Void) {
        container(key, open: "[", close: "]", body)
    }

    public mutating func field(_ key: String, _ value: String?) {
        beginValue(key)
        if let value { appendString(value) } else { append("null") }
    }

    public mutating func field(_ key: String, _ value: Int?) {
        beginValue(key)
        append(value.map(String.init) ?? "null")
    }

    public mutating func field(_ key: String, _ value: Bool) {
        beginValue(key)
        append(value ? "true" : "false")
    }

    public mutating func field(_ key: String, _ value: Bool?) {
        beginValue(key)
        append(value.map { $0 ? "true" : "false" } ?? "null")
    }

    public mutating func value(_ value: Int) {
        beginValue(nil)
        append(String(value))
    }

    public mutating func value(_ value: String) {
        beginValue(nil)
        appendString(value)
    }

    private mutating func container(_ key: String?, open: String, close: String, _ body: (inout JSONWriter) -> Void) {
        beginValue(key)
        append(open)
        indent += 1
        needsComma.append(false)
        body(&self)
        let hadMembers = needsComma.removeLast()
        indent -= 1
        if hadMembers { newline() }
        append(close)
    }

    private mutating func beginValue(_ key: String?) {
        if needsComma[needsComma.count - 1] { append(",") }
        needsComma[needsComma.count - 1] = true
        if indent > 0 { newline() }
        if let key {
            appendString(key)
            append(": ")
        }
    }

    private mutating func newline() {
        bytes.append(0x0a)
        for _ in 0..<indent { bytes.append(0x20); bytes.append(0x20) }
    }

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// RFC 8259 string: quotes, backslash and control characters escaped; other UTF-8 as is.
    private mutating func appendString(_ text: String) {
        bytes.append(0x22)
        for byte in text.utf8 {
            switch byte {
            case 0x22: bytes.append(0x5c); bytes.append(0x22)
            case 0x5c: bytes.append(0x5c); bytes.append(0x5c)
            case 0x0a: bytes.append(0x5c); bytes.append(0x6e)
            case 0x09: bytes.append(0x5c); bytes.append(0x74)
            case 0x0d: bytes.append(0x5c); bytes.append(0x72)
            case 0..<0x20:
                append("\\u00")
                append(hexDigit(byte >> 4))
                append(hexDigit(byte & 0x0f))
            default: bytes.append(byte)
            }
        }
        bytes.append(0x22)
    }

    private func hexDigit(_ value: UInt8) -> String {
        String(value, radix: 16)
    }
}
