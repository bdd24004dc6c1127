/// `proc/self/mountinfo` (proc(5)): one mount a line,
/// `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`.
/// Only what finds the root filesystem's device is kept.
public enum MountInfoParser {
    static let lineLimit = 100_000

    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> [Mount] {
        let text = try SysfsText.text(bytes)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        // Every process sees at least its root mount.
        guard !lines.isEmpty else { throw ParseError("no mounts") }
        guard lines.count <= lineLimit else { throw ParseError("more than \(lineLimit) lines") }
        var mounts: [Mount] = []
        for (index, line) in lines.enumerated() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count >= 10, let separator = fields[6...].firstIndex(of: "-"), separator + 2 < fields.count else {
                throw ParseError("line \(index + 1) is not a mountinfo line (ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS … - TYPE SOURCE …)")
            }
            let numbers = fields[2].split(separator: ":")
            guard numbers.count == 2, let major = UInt32(numbers[0]), let minor = UInt32(numbers[1]) else {
                throw ParseError("line \(index + 1): \"\(fields[2].prefix(20))\" is not MAJOR:MINOR")
            }
            mounts.append(
                Mount(
                    major: major, minor: minor, mountPoint: unescape(fields[4]), type: String(fields[separator + 1]),
                    source: unescape(fields[separator + 2])))
        }
        return mounts
    }

    /// The kernel writes space, tab, newline and backslash in paths as `\040`, `\011`, `\012`, `\134`.
    static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3, let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// One line of `mountinfo`.
public struct Mount: Sendable, Hashable {
    public var major: UInt32
    public var minor: UInt32
    public var mountPoint: String
    public var type: String
    public var source: String

    public init(major: UInt32, minor: UInt32, mountPoint: String, type: String, source: String) {
        self.major = major
        self.minor = minor
        self.mountPoint = mountPoint
        self.type = type
        self.source = source
    }
}
