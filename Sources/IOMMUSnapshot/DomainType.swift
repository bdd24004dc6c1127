/// A default domain type as `iommu_group_show_type()` prints it.
public enum DomainType: String, Sendable, Hashable, Codable, CaseIterable {
    case blocked
    case identity
    case unmanaged
    case dma = "DMA"
    /// The lazy (flush-queue) flavour of DMA, 5.15 and later.
    case dmaFQ = "DMA-FQ"
    /// No default domain, or a type the switch in the kernel does not name (PLATFORM, 6.7+).
    case unknown

    /// Translated types: DMA through page tables, whatever the flush policy.
    public var isTranslated: Bool { self == .dma || self == .dmaFQ }
}

/// What a group's `type` file said, kept exactly so the model can check the kernel's bytes
/// (before 5.3 `DMA` came without its newline).
public enum GroupTypeReading: Sendable, Hashable {
    /// The file does not exist: kernels before about 4.15 had no `type`.
    case absent
    case value(DomainType, hasNewline: Bool)

    public var domainType: DomainType? {
        if case .value(let type, _) = self { return type }
        return nil
    }
}
