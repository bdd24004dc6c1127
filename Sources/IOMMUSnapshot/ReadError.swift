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
        /// More bytes than any kernel writes to this file.
        case tooLarge(limit: Int)
        /// The bytes are there but are not in the file's format.
        case malformed(reason: String)
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
