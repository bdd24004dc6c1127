/// A strict, bounded JSON (RFC 8259) reader for files the project writes with `JSONWriter` and reads
/// back (the daemon's state file). Such a file may have been cut short or tampered with, so the
/// reader refuses anything outside the grammar (no comments, trailing commas, `NaN`, byte order mark,
/// leading zeros, unescaped control characters, invalid UTF-8, lone surrogates, duplicate keys,
/// trailing data) and stops at fixed limits of size, nesting depth and value count before it
/// allocates much. Every error names the file and the byte offset.
public struct JSONReader {
    public struct Limits: Sendable, Hashable {
        /// Largest input, in bytes.
        public var bytes: Int
        /// Deepest nesting of arrays and objects (the top-level container is depth 1).
        public var depth: Int
        /// Most values (scalars, arrays, objects, not keys) in the whole document.
        public var values: Int

        public init(bytes: Int = 8 << 20, depth: Int = 32, values: Int = 1 << 20) {
            self.bytes = bytes
            self.depth = depth
            self.values = values
        }
    }

    /// One parsed document at `file`.
    public static func parse(_ input: [UInt8], file: String, limits: Limits = Limits()) throws(JSONReadError) -> JSONValue {
        guard input.count <= limits.bytes else { throw JSONReadError(file: file, offset: nil, reason: .tooLarge(limit: limits.bytes)) }
        var reader = JSONReader(input: input, file: file, limits: limits)
        reader.skipWhitespace()
        let value = try reader.parseValue(depth: 0)
        reader.skipWhitespace()
        guard reader.position == input.count else { throw reader.failure(.trailingData) }
        return value
    }

    private let input: [UInt8]
    private let file: String
    private let limits: Limits
    private var position = 0
    private var values = 0

    private init(input: [UInt8], file: String, limits: Limits) {
        self.input = input
        self.file = file
        self.limits = limits
    }

    private func failure(_ reason: JSONReadError.Reason, at offset: Int? = nil) -> JSONReadError {
        JSONReadError(file: file, offset: offset ?? position, reason: reason)
    }

    private var atEnd: Bool { position >= input.count }

    private mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case 0x20, 0x09, 0x0a, 0x0d: position += 1
            default: return
            }
        }
    }

    /// The next byte, or `.truncated` at the end of the input.
    private func peek() throws(JSONReadError) -> UInt8 {
        guard position < input.count else { throw failure(.truncated) }
        return input[position]
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(JSONReadError) {
        let next = try peek()
        guard next == byte else { throw failure(.unexpected(byte: next, expected: what)) }
        position += 1
    }

    private mutating func parseValue(depth: Int) throws(JSONReadError) -> JSONValue {
        values += 1
        guard values <= limits.values else { throw failure(.tooManyValues(limit: limits.values)) }
        let next = try peek()
        switch next {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure(.unexpected(byte: next, expected: "a value"))
        }
    }

    private mutating func parseLiteral(_ word: StaticString) throws(JSONReadError) {
        let start = position
        for index in 0..<word.utf8CodeUnitCount {
            let next = try peek()
            guard next == word.utf8Start[index] else { throw failure(.unexpected(byte: next, expected: "\(word)"), at: start) }
            position += 1
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONReadError) -> JSONValue {
        guard depth <= limits.depth else { throw failure(.tooDeep(limit: limits.depth)) }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            let next = try peek()
            position += 1
            if next == UInt8(ascii: "]") { return .array(elements) }
            guard next == UInt8(ascii: ",") else { throw failure(.unexpected(byte: next, expected: "',' or ']'"), at: position - 1) }
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONReadError) -> JSONValue {
        guard depth <= limits.depth else { throw failure(.tooDeep(limit: limits.depth)) }
        position += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            let keyStart = position
            let next = try peek()
            guard next == UInt8(ascii: "\"") else { throw failure(.unexpected(byte: next, expected: "a key")) }
            let key = try parseString()
            guard members[key] == nil else { throw failure(.duplicateKey(key), at: keyStart) }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':'")
            skipWhitespace()
            members[key] = try parseValue(depth: depth)
            skipWhitespace()
            let after = try peek()
            position += 1
            if after == UInt8(ascii: "}") { return .object(members) }
            guard after == UInt8(ascii: ",") else { throw failure(.unexpected(byte: after, expected: "',' or '}'"), at: position - 1) }
        }
    }

    /// A string from its opening quote; escapes decoded, the result validated as UTF-8.
    private mutating func parseString() throws(JSONReadError) -> String {
        let start = position
        position += 1
        var bytes: [UInt8] = []
        while true {
            let byte = try peek()
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: bytes, as: UTF8.self) else { throw failure(.invalidUTF8, at: start) }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                let escape = try peek()
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(escape)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0c)
                case UInt8(ascii: "n"): bytes.append(0x0a)
                case UInt8(ascii: "r"): bytes.append(0x0d)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"): try appendEscapedScalar(to: &bytes)
                default: throw failure(.invalidEscape, at: position - 2)
                }
            case 0..<0x20:
                throw failure(.controlCharacter)
            default:
                bytes.append(byte)
                position += 1
            }
        }
    }

    /// After `\u`: four hex digits, or a surrogate pair `\uD8xx\uDCxx`; appended as UTF-8.
    private mutating func appendEscapedScalar(to bytes: inout [UInt8]) throws(JSONReadError) {
        let start = position - 2
        var value = UInt32(try hexQuad())
        if (0xD800...0xDBFF).contains(value) {
            guard position + 1 < input.count, input[position] == UInt8(ascii: "\\"), input[position + 1] == UInt8(ascii: "u") else {
                throw failure(atEnd ? .truncated : .loneSurrogate, at: atEnd ? nil : start)
            }
            position += 2
            let low = UInt32(try hexQuad())
            guard (0xDC00...0xDFFF).contains(low) else { throw failure(.loneSurrogate, at: start) }
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(value) {
            throw failure(.loneSurrogate, at: start)
        }
        bytes.append(contentsOf: String(Character(Unicode.Scalar(value)!)).utf8)
    }

    private mutating func hexQuad() throws(JSONReadError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = try peek()
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure(.invalidEscape)
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`: an `integer` when it has neither fraction
    /// nor exponent and fits `Int`, otherwise a `number` keeping its text.
    private mutating func parseNumber() throws(JSONReadError) -> JSONValue {
        let start = position
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        func digits() throws(JSONReadError) {
            guard position < input.count, isDigit(input[position]) else {
                throw failure(atEnd ? .truncated : .invalidNumber, at: atEnd ? nil : start)
            }
            while position < input.count, isDigit(input[position]) { position += 1 }
        }
        var integral = true
        if input[position] == UInt8(ascii: "-") { position += 1 }
        if position < input.count, input[position] == UInt8(ascii: "0") {
            position += 1
            if position < input.count, isDigit(input[position]) { throw failure(.invalidNumber, at: start) }
        } else {
            try digits()
        }
        if position < input.count, input[position] == UInt8(ascii: ".") {
            position += 1
            integral = false
            try digits()
        }
        if position < input.count, input[position] == UInt8(ascii: "e") || input[position] == UInt8(ascii: "E") {
            position += 1
            integral = false
            if position < input.count, input[position] == UInt8(ascii: "+") || input[position] == UInt8(ascii: "-") { position += 1 }
            try digits()
        }
        let text = String(decoding: input[start..<position], as: UTF8.self)
        if integral, let value = Int(text) { return .integer(value) }
        return .number(text)
    }
}

/// One JSON value. Objects keep no order (the reader refuses duplicate keys).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number without fraction or exponent that fits `Int`.
    case integer(Int)
    /// Any other number, as written.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// What the value is, for error messages.
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// Why a JSON file was refused: the file, where (byte offset; nil for limits checked up front and
/// for fields), and what.
public struct JSONReadError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        case tooLarge(limit: Int)
        case tooDeep(limit: Int)
        case tooManyValues(limit: Int)
        case truncated
        case unexpected(byte: UInt8, expected: String)
        case trailingData
        case controlCharacter
        case invalidEscape
        case loneSurrogate
        case invalidUTF8
        case invalidNumber
        case duplicateKey(String)
        /// Valid JSON, but not the expected shape: `field` is a path like `groups[2].members`.
        case field(String, expected: String, found: String)
    }

    public var file: String
    public var offset: Int?
    public var reason: Reason

    public init(file: String, offset: Int?, reason: Reason) {
        self.file = file
        self.offset = offset
        self.reason = reason
    }

    public var description: String {
        let location = offset.map { "\(file), byte \($0)" } ?? file
        switch reason {
        case .tooLarge(let limit): return "\(location): larger than \(limit) bytes"
        case .tooDeep(let limit): return "\(location): nested deeper than \(limit) levels"
        case .tooManyValues(let limit): return "\(location): more than \(limit) values"
        case .truncated: return "\(location): ends in the middle of a value"
        case .unexpected(let byte, let expected):
            let shown = (0x21..<0x7f).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
            return "\(location): \(shown) where \(expected) was expected"
        case .trailingData: return "\(location): data after the end of the document"
        case .controlCharacter: return "\(location): unescaped control character in a string"
        case .invalidEscape: return "\(location): invalid escape in a string"
        case .loneSurrogate: return "\(location): unpaired UTF-16 surrogate escape"
        case .invalidUTF8: return "\(location): string is not valid UTF-8"
        case .invalidNumber: return "\(location): malformed number"
        case .duplicateKey(let key): return "\(location): key \"\(key)\" appears twice"
        case .field(let field, let expected, let found): return "\(location): \(field) is \(found), expected \(expected)"
        }
    }
}

/// Typed access to one JSON object's fields, with errors naming the file and the field's path.
/// Unknown fields are ignored (a newer writer may add some); a missing optional field is nil.
public struct JSONFields {
    public let file: String
    public let path: String
    private let members: [String: JSONValue]

    public init(_ value: JSONValue, file: String, path: String = "") throws(JSONReadError) {
        guard case .object(let members) = value else {
            throw JSONReadError(
                file: file, offset: nil, reason: .field(path.isEmpty ? "the document" : path, expected: "an object", found: value.kind))
        }
        self.file = file
        self.path = path
        self.members = members
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    private func mismatch(_ key: String, _ expected: String, _ found: JSONValue?) -> JSONReadError {
        JSONReadError(file: file, offset: nil, reason: .field(name(key), expected: expected, found: found?.kind ?? "missing"))
    }

    /// The value of `key`; nil when absent or null.
    public func optional(_ key: String) -> JSONValue? {
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    public func int(_ key: String) throws(JSONReadError) -> Int {
        guard case .integer(let value)? = members[key] else { throw mismatch(key, "an integer", members[key]) }
        return value
    }

    public func optionalInt(_ key: String) throws(JSONReadError) -> Int? {
        guard let value = optional(key) else { return nil }
        guard case .integer(let number) = value else { throw mismatch(key, "an integer or null", value) }
        return number
    }

    public func bool(_ key: String) throws(JSONReadError) -> Bool {
        guard case .bool(let value)? = members[key] else { throw mismatch(key, "true or false", members[key]) }
        return value
    }

    public func string(_ key: String) throws(JSONReadError) -> String {
        guard case .string(let value)? = members[key] else { throw mismatch(key, "a string", members[key]) }
        return value
    }

    public func optionalString(_ key: String) throws(JSONReadError) -> String? {
        guard let value = optional(key) else { return nil }
        guard case .string(let text) = value else { throw mismatch(key, "a string or null", value) }
        return text
    }

    /// An array of strings.
    public func strings(_ key: String) throws(JSONReadError) -> [String] {
        guard case .array(let elements)? = members[key] else { throw mismatch(key, "an array of strings", members[key]) }
        var result: [String] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard case .string(let text) = element else { throw mismatch("\(key)[\(index)]", "a string", element) }
            result.append(text)
        }
        return result
    }

    /// An object whose values are all strings.
    public func stringMap(_ key: String) throws(JSONReadError) -> [String: String] {
        guard case .object(let entries)? = members[key] else { throw mismatch(key, "an object of strings", members[key]) }
        var result: [String: String] = [:]
        for (entryKey, value) in entries {
            guard case .string(let text) = value else { throw mismatch("\(key).\(entryKey)", "a string", value) }
            result[entryKey] = text
        }
        return result
    }

    /// An object read by `body`; nil when absent or null.
    public func optionalObject<T>(_ key: String, _ body: (JSONFields) throws(JSONReadError) -> T) throws(JSONReadError) -> T? {
        guard let value = optional(key) else { return nil }
        return try body(try JSONFields(value, file: file, path: name(key)))
    }

    /// An array of strings, empty when absent (a field newer than the writer).
    public func optionalStrings(_ key: String) throws(JSONReadError) -> [String] {
        optional(key) == nil ? [] : try strings(key)
    }

    /// An array of objects, each read by `body`.
    public func objects<T>(_ key: String, _ body: (JSONFields) throws(JSONReadError) -> T) throws(JSONReadError) -> [T] {
        guard case .array(let elements)? = members[key] else { throw mismatch(key, "an array", members[key]) }
        var result: [T] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            result.append(try body(try JSONFields(element, file: file, path: name("\(key)[\(index)]"))))
        }
        return result
    }
}
