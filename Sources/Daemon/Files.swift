import CLinux
import IOMMUSnapshot
import Report
#if canImport(Glibc)
    import Glibc
#endif

/// The few file operations the daemon needs, over POSIX calls, with errors that name the path.
public enum Files {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var errno: Int32
        /// Set when the failure is not an errno's, e.g. "not a regular file: FIFO".
        public var reason: String?
        public init(path: String, errno: Int32, reason: String? = nil) {
            self.path = path
            self.errno = errno
            self.reason = reason
        }
        public var description: String { "\(path): \(reason ?? Errno(errno).description)" }
    }

    /// The whole file, or nil when it does not exist. Only a regular file is opened: a FIFO in place
    /// of the configuration or the state file must not hang the daemon or `status`, nor a device
    /// node act on open.
    public static func read(_ path: String, limit: Int = 1 << 20) throws(Failure) -> [UInt8]? {
        var mode: UInt32 = 0
        let fd = iw_open_regular(AT_FDCWD, path, 0, &mode)
        if fd == IW_NOT_REGULAR {
            // systemd's convention: a file that is (or links to) /dev/null is empty, masked.
            if mode & UInt32(S_IFMT) == UInt32(S_IFCHR), isDevNull(path) { return [] }
            throw Failure(path: path, errno: EINVAL, reason: "not a regular file: \(RootFileSystem.typeName(mode)); not read")
        }
        guard fd >= 0 else {
            let error = Errno.current
            if error.rawValue == ENOENT { return nil }
            throw Failure(path: path, errno: error.rawValue)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count: Int
            switch chunk.withUnsafeMutableBytes({ buffer in
                Result { () throws(Errno) in try Syscalls.read(fd, into: buffer.baseAddress!, count: buffer.count) }
            }) {
            case .success(let read): count = read
            case .failure(let error): throw Failure(path: path, errno: error.rawValue)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit { throw Failure(path: path, errno: EFBIG) }
        }
    }

    private static func isDevNull(_ path: String) -> Bool {
        guard let resolved = realpath(path, nil) else { return false }
        defer { free(resolved) }
        return String(cString: resolved) == "/dev/null"
    }

    /// Names in a folder (no `.`/`..`), sorted; nil when the folder does not exist.
    public static func list(_ path: String) throws(Failure) -> [String]? {
        do throws(Errno) {
            return try Syscalls.listFolder(path).sorted()
        } catch {
            if error.rawValue == ENOENT { return nil }
            throw Failure(path: path, errno: error.rawValue)
        }
    }

    /// Replaces `path` atomically: readers see the old file or the new one, never half of one.
    /// Writes `.<name>.tmp` beside it, then `rename(2)`s it over.
    public static func replace(_ path: String, with bytes: [UInt8], mode: mode_t = 0o644) throws(Failure) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporary = (folder.isEmpty ? "" : folder + "/") + "." + name + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw Failure(path: temporary, errno: errno) }
        do throws(Errno) {
            try Syscalls.writeAll(fd, bytes)
        } catch {
            close(fd)
            unlink(temporary)
            throw Failure(path: temporary, errno: error.rawValue)
        }
        fchmod(fd, mode)
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = errno
            unlink(temporary)
            throw Failure(path: path, errno: error)
        }
    }

    /// One line to fd 2, unbuffered (for messages before the log sink exists, or beside it).
    public static func writeStandardError(_ line: String) {
        try? Syscalls.writeAll(STDERR_FILENO, Array((TerminalText.line(line) + "\n").utf8))
    }

    /// Creates the folder (not its parents) when missing.
    public static func makeFolder(_ path: String, mode: mode_t = 0o755) throws(Failure) {
        guard mkdir(path, mode) == 0 || errno == EEXIST else { throw Failure(path: path, errno: errno) }
    }
}
