#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An errno value, read once, right after the call that failed.
public struct Errno: Error, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int32

    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The errno the last failed call on this thread left.
    public static var current: Errno { Errno(errno) }

    /// strerror(3)'s sentence.
    public var description: String { String(cString: strerror(rawValue)) }
}

/// Why a file or folder could not be written (`iommu-watch snapshot`). The path is the one given to
/// the call, as the user gave it or under the output folder.
public struct WriteError: Error, Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case system(Errno)
        /// The output folder is there but is not what a snapshot may be written into.
        case refused(reason: String)
    }

    /// Made only by this module's writers (`TreeRecorder.write(to:)`).
    public let path: String
    public let kind: Kind

    /// One line for people, in the reader's words for the same errno (`ReadError.message`).
    public var message: String {
        switch kind {
        case .system(let error): ReadError(path: path, kind: RootFileSystem.kind(error.rawValue)).message
        case .refused(let reason): reason
        }
    }
}

/// The system calls whose handling must not differ between callers, each written once, in the manner
/// of swift-system's `Internals/Syscalls.swift`: a call a signal interrupted (EINTR) is retried here and
/// nowhere else, and errno is read once, into an `Errno`, right after the call that failed.
public enum Syscalls {
    /// Runs `call` again while it fails with EINTR; -1 becomes the errno it left.
    @inline(__always)
    public static func retryingInterrupts<T: FixedWidthInteger>(_ call: () -> T) -> Result<T, Errno> {
        while true {
            let result = call()
            if result != -1 { return .success(result) }
            let error = Errno.current
            if error.rawValue != EINTR { return .failure(error) }
        }
    }

    /// read(2) into `buffer`: the count read, 0 at the end of the file.
    public static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawPointer, count: Int) throws(Errno) -> Int {
        try retryingInterrupts { Glibc.read(descriptor, buffer, count) }.get()
    }

    /// Writes all of `bytes`, going on after short writes.
    public static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) throws(Errno) {
        var offset = 0
        while offset < bytes.count {
            let count = try retryingInterrupts {
                bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            }.get()
            // write(2) returns 0 only for an empty buffer; anything else would loop forever.
            guard count > 0 else { throw Errno(EIO) }
            offset += count
        }
    }

    /// The names in folder `path` other than `.` and `..`, in the order the file system gives them.
    public static func listFolder(_ path: String) throws(Errno) -> [String] {
        guard let stream = opendir(path) else { throw Errno.current }
        return try entries(of: stream)
    }

    /// The same for the open folder `descriptor`, which this takes over (and closes).
    public static func listFolder(descriptor: Int32) throws(Errno) -> [String] {
        guard let stream = fdopendir(descriptor) else {
            let error = Errno.current
            close(descriptor)
            throw error
        }
        return try entries(of: stream)
    }

    /// Reads the directory stream to its end and closes it.
    private static func entries(of stream: OpaquePointer) throws(Errno) -> [String] {
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw Errno.current }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }
}
