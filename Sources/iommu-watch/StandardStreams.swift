import Report
#if canImport(Glibc)
import Glibc
#endif

/// Whole-buffer writes to stdout and stderr, retrying short writes; no Foundation needed.
enum StandardStreams {
    static func write(_ bytes: [UInt8], to descriptor: Int32 = STDOUT_FILENO) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += count
        }
    }

    static func write(_ text: String, to descriptor: Int32 = STDOUT_FILENO) {
        write(Array(text.utf8), to: descriptor)
    }

    /// One line on stderr; `text` may hold names from the root, so it goes through `TerminalText`.
    static func error(_ text: String) {
        write("iommu-watch: " + TerminalText.line(text) + "\n", to: STDERR_FILENO)
    }
}
