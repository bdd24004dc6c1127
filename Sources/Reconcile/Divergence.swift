import IOMMUSnapshot

/// One instance of a divergence kind on one machine: what the kernel shows against what its rules predict.
public struct Divergence: Sendable, Hashable {
    public var kind: DivergenceKind
    public var severity: Severity
    /// Stable across rescans while the condition holds, so "appeared" and "resolved" pair up
    /// (journal `IOMMU_WATCH_KEY=`). Built from member sets and slots, never from group numbers alone,
    /// because group numbers are reused.
    public var key: String
    /// The group it is about, by number as now shown.
    public var group: Int?
    /// The PCI function it is about.
    public var slot: PCIAddress?
    /// A full sentence a person can act on.
    public var message: String
    /// Journal `DOMAIN_TYPE=`, `EXPECTED=`, `OBSERVED=` where they apply.
    public var domainType: DomainType?
    public var expected: String?
    public var observed: String?

    public init(
        kind: DivergenceKind, severity: Severity? = nil, key: String, group: Int? = nil, slot: PCIAddress? = nil,
        message: String, domainType: DomainType? = nil, expected: String? = nil, observed: String? = nil
    ) {
        self.kind = kind
        self.severity = severity ?? kind.defaultSeverity
        self.key = key
        self.group = group
        self.slot = slot
        self.message = message
        self.domainType = domainType
        self.expected = expected
        self.observed = observed
    }
}
