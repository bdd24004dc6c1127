import IOMMUModel
import IOMMUSnapshot

/// Everything one reconciliation finds: the divergences, what could not be checked, whether the
/// IOMMU translates at all, and why each multi-device group of the kernel's is one.
public struct Reconciliation: Sendable {
    /// Most severe first, then by key.
    public var divergences: [Divergence]
    public var unverified: [Unverified]
    public var translation: TranslationState
    /// Kernel group id → the merges that made it, in words ("00:1f.2 … (slot 0000:00:1f is
    /// multifunction and its functions have no ACS isolation …)"), for groups of two or more devices
    /// whose members the model put together.
    public var reasons: [Int: [String]]
    /// Which mode the machine is in and what decided it; nil only where a caller built this by hand.
    public var posture: Posture?
    /// Kernel group id → whether it can be handed to VFIO and what stands in the way.
    public var vfio: [Int: VFIOReadiness] = [:]

    public init(
        divergences: [Divergence], unverified: [Unverified] = [], translation: TranslationState = .unknown("not derived"),
        reasons: [Int: [String]] = [:], posture: Posture? = nil
    ) {
        self.posture = posture
        self.divergences = divergences
        self.unverified = unverified
        self.translation = translation
        self.reasons = reasons
    }
}

extension Reconciler {
    /// The model's merges inside each observed group: those whose two devices both belong to it.
    static func reasons(in snapshot: Snapshot, prediction: Prediction) -> [Int: [String]] {
        var result: [Int: [String]] = [:]
        // Indexed by device, so each group looks only at its own members' merges (not every merge).
        let mergesByDevice = Dictionary(grouping: prediction.groups.flatMap(\.merges), by: \.device)
        for group in snapshot.groups where group.pciMembers.count > 1 {
            let members = Set(group.pciMembers)
            let inside = group.pciMembers.flatMap { mergesByDevice[$0, default: []] }.filter { members.contains($0.joined) }
            if !inside.isEmpty { result[group.id] = inside.map(\.sentence) }
        }
        return result
    }
}
