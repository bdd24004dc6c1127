import IOMMUSnapshot
import Report
#if canImport(Glibc)
    import Glibc
#endif

/// Whole-buffer writes to stdout and stderr, retrying short writes; no Foundation needed.
enum StandardStreams {
    /// A failed write (a closed pipe) ends it quietly: there is nowhere left to report it.
    static func write(_ bytes: [UInt8], to descriptor: Int32 = STDOUT_FILENO) {
        try? Syscalls.writeAll(descriptor, bytes)
    }

    static func write(_ text: String, to descriptor: Int32 = STDOUT_FILENO) {
        write(Array(text.utf8), to: descriptor)
    }

    /// One line on stderr; `text` may hold names from the root, so it goes through `TerminalText`.
    static func error(_ text: String) {
        write("iommu-watch: " + TerminalText.line(text) + "\n", to: STDERR_FILENO)
    }
}
