import CSystemd
#if canImport(Glibc)
    import Glibc
#endif

/// One `NAME=value` pair of a journal entry.
public struct JournalField: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// journald's rule for user fields: 1–64 characters of `A–Z`, `0–9` and `_`, not starting with `_`
    /// (those are trusted fields journald adds itself) nor with a digit.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 64, bytes[0] != UInt8(ascii: "_"),
            !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[0])
        else { return false }
        return bytes.allSatisfy {
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "_")
        }
    }
}

/// The native journal protocol through libsystemd's `sd_journal_sendv(3)`.
public enum Journal {
    /// Where journald listens for native entries (`/run/systemd/journal/socket`).
    public static let socketPath = "/run/systemd/journal/socket"

    /// True when journald's socket exists, i.e. when an entry sent now has somewhere to go.
    /// `sd_journal_sendv` itself reports a missing socket as success, so callers that must fall back
    /// to stderr ask this first.
    public static var socketExists: Bool {
        var info = stat()
        return stat(socketPath, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK
    }

    /// Sends one entry, one `iovec` per `NAME=value` (values may hold newlines; the native protocol
    /// carries them). Returns 0 or a negative errno: `-ECONNREFUSED` while journald is down,
    /// `-EAGAIN`/`-ENOBUFS` when its socket is full. May block while journald is slow to read, so
    /// call it from a thread that may wait.
    public static func send(_ fields: [JournalField]) -> Int32 {
        guard !fields.isEmpty else { return -EINVAL }
        // One contiguous buffer, one iovec per field pointing into it.
        var bytes: [UInt8] = []
        var spans: [(offset: Int, count: Int)] = []
        spans.reserveCapacity(fields.count)
        for field in fields {
            let start = bytes.count
            bytes.append(contentsOf: field.name.utf8)
            bytes.append(UInt8(ascii: "="))
            bytes.append(contentsOf: field.value.utf8)
            spans.append((start, bytes.count - start))
        }
        return bytes.withUnsafeMutableBytes { buffer -> Int32 in
            let vectors = spans.map { iovec(iov_base: buffer.baseAddress! + $0.offset, iov_len: $0.count) }
            return vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
    }
}
