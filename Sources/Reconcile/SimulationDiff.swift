import IOMMUModel
import IOMMUSnapshot

/// What a change would do to the divergences (`iommu-watch simulate`): the divergences before and
/// after it, compared by their stable keys. Pure; `Report.SimulationReport` renders it.
public struct SimulationDiff: Sendable {
    /// One sentence per override applied (or refused), in order.
    public let notes: [String]
    /// Keys found only after the change.
    public let appear: [Divergence]
    /// Keys found only before it.
    public let disappear: [Divergence]
    /// Keys found in both with another severity or message.
    public let changed: [(before: Divergence, after: Divergence)]
    /// Keys found in both, the same.
    public let unchanged: [Divergence]
    /// The posture before and after the change, when the diff was made from a snapshot.
    public var postureBefore: Posture?
    public var postureAfter: Posture?

    /// Compares `before` with `after`; a key found twice counts by its first divergence.
    public init(notes: [String] = [], before: [Divergence], after: [Divergence]) {
        let beforeByKey = Dictionary(before.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let afterKeys = Set(after.map(\.key))
        self.notes = notes
        self.appear = after.filter { beforeByKey[$0.key] == nil }
        self.disappear = before.filter { !afterKeys.contains($0.key) }
        let kept = after.compactMap { divergence in beforeByKey[divergence.key].map { (before: $0, after: divergence) } }
        self.changed = kept.filter { $0.before.severity != $0.after.severity || $0.before.message != $0.after.message }
        self.unchanged = kept.filter { $0.before.severity == $0.after.severity && $0.before.message == $0.after.message }.map(\.after)
    }

    /// Applies `overrides` to `snapshot` and compares the divergences of both, the transitions
    /// between them (`Reconciler.transitions`) counted as after.
    public init(snapshot: Snapshot, overrides: Overrides) {
        let (simulated, notes) = overrides.apply(to: snapshot)
        let before = Reconciler.reconcile(snapshot)
        let after = Reconciler.reconcile(simulated)
        self.init(
            notes: notes, before: before.divergences, after: after.divergences + Reconciler.transitions(from: snapshot, to: simulated))
        postureBefore = before.posture
        postureAfter = after.posture
    }
}
