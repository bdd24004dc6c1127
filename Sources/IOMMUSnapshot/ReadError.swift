/// Why one file, link or folder under the root could not be turned into a value.
/// Every error names the root-relative path it is about, so a user can look at that very file.
public struct ReadError: Error, Sendable, Equatable, Hashable, Codable {
    public enum Kind: Sendable, Equatable, Hashable, Codable {
        /// ENOENT where the listing or the kernel's ABI said the entry exists.
        case missing
        case permissionDenied
        case notADirectory
        /// A link whose target leaves the root (`..` past it, or an absolute target).
        case escapingLink(target: String)
        /// A link whose target does not exist under the root.
        case danglingLink(target: String)
        /// A FIFO, socket, device node, folder or link where a file was expected: never opened for
        /// reading, since a FIFO would block and a device node can act on open.
        case notRegularFile(type: String)
        /// More bytes than any kernel writes to this file.
        case tooLarge(limit: Int)
        /// The bytes are there but are not in the file's format.
        case malformed(reason: String)
        /// The walk was asked to stop (the daemon received SIGTERM) before it was done.
        case interrupted
        /// Any other errno, by its C name's meaning.
        case io(errno: Int32, description: String)
    }

    public var path: String
    public var kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    /// One line for people: what went wrong with this path.
    public var message: String {
        switch kind {
        case .missing: return "does not exist"
        case .permissionDenied: return "permission denied"
        case .notADirectory: return "not a directory"
        case .escapingLink(let target): return "link target \(target) leaves the root; not followed"
        case .danglingLink(let target): return "link target \(target) does not exist"
        case .interrupted: return "reading was interrupted"
        case .notRegularFile(let type): return "not a regular file: \(type); not read"
        case .tooLarge(let limit): return "larger than \(limit) bytes; no kernel writes that much here"
        case .malformed(let reason): return reason
        case .io(let errno, let description): return "\(description) (errno \(errno))"
        }
    }
}

/// A parser's complaint about bytes, before the reader attaches the path they came from.
public struct ParseError: Error, Sendable, Equatable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}
