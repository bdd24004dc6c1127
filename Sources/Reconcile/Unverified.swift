import IOMMUSnapshot

/// Something the reconciler could not check because what it needs could not be read. Missing data is
/// not evidence: such a question is neither a divergence nor "all is well", but this, with what to do.
public struct Unverified: Sendable, Hashable {
    /// The kernel's group it is about, when one is.
    public var group: Int?
    public var members: [PCIAddress]
    /// What could not be checked: "whether 00:0d.0 and 00:0d.2 belong in one group".
    public var question: String
    /// Why: "00:0d.0 shows only 64 bytes of config space".
    public var reason: String
    /// What to do about it.
    public var remedy: String

    public init(group: Int?, members: [PCIAddress], question: String, reason: String, remedy: String) {
        self.group = group
        self.members = members
        self.question = question
        self.reason = reason
        self.remedy = remedy
    }

    /// One line: "group 7: whether … (… ; run as root …)".
    public var sentence: String {
        (group.map { "group \($0): " } ?? "") + "\(question): \(reason); \(remedy)"
    }
}
