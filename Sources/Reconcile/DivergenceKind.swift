/// One kind of divergence: the single source of truth from which the journal catalog
/// (`systemd/iommu-watch.catalog`), `docs/divergences.md` and `iommu-watch explain` are generated.
public struct DivergenceKind: Sendable, Hashable, Identifiable {
    /// Kebab-case name, stable: `shared-identity-domain`. Journal field `IOMMU_WATCH_DIVERGENCE=`.
    public let name: String
    /// 128-bit id as 32 lower-case hex digits, stable forever: journal field `MESSAGE_ID=`.
    public let messageID: String
    /// Severity when no rule raises or lowers it.
    public let defaultSeverity: Severity
    /// One line.
    public let title: String
    /// What it means and why it matters.
    public let explanation: String
    /// What to do.
    public let remedy: String

    public var id: String { name }

    public init(name: String, messageID: String, defaultSeverity: Severity, title: String, explanation: String, remedy: String) {
        self.name = name
        self.messageID = messageID
        self.defaultSeverity = defaultSeverity
        self.title = title
        self.explanation = explanation
        self.remedy = remedy
    }
}
