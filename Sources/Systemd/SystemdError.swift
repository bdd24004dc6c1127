#if canImport(Glibc)
    import Glibc
#endif

/// Errors from libsystemd, with the call that failed.
public struct SystemdError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): \(String(cString: strerror(errno)))" }
}
