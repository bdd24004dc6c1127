import IOMMUModel
import Reconcile

/// One change between two observed states: what the daemon logs. Nothing else is logged while
/// the state holds still.
public enum Transition: Sendable, Hashable {
    case divergenceAppeared(Divergence)
    /// Same key, another severity (e.g. a shared identity domain now holds an untrusted device).
    case divergenceChanged(Divergence, previous: Divergence)
    case divergenceResolved(Divergence)
    case groupAdded(GroupState)
    case groupRemoved(GroupState)
    case groupTypeChanged(GroupState, previousType: String?)
    case driverChanged(GroupState, slot: String, previous: String?, current: String?)
    case readErrorAppeared(path: String, message: String)
    case readErrorResolved(path: String, message: String)
    /// The mode or a protection switch changed (not on the first reconcile: that is the baseline).
    case postureChanged(PostureSummary, previous: PostureSummary)

    /// Everything that changed from `previous` to `current`, in a stable order. With no previous
    /// state (the first reconcile), groups are the baseline, not news: only divergences and read
    /// errors are reported.
    public static func between(_ previous: ObservedState?, _ current: ObservedState) -> [Transition] {
        var transitions: [Transition] = []
        let before = previous ?? ObservedState()
        // Read errors first: they explain divergences that follow.
        for (path, message) in before.readErrors.sorted(by: { $0.key < $1.key }) where current.readErrors[path] == nil {
            transitions.append(.readErrorResolved(path: path, message: message))
        }
        for (path, message) in current.readErrors.sorted(by: { $0.key < $1.key }) where before.readErrors[path] == nil {
            transitions.append(.readErrorAppeared(path: path, message: message))
        }
        if let previous {
            for (identity, group) in previous.groups.sorted(by: { $0.key < $1.key }) where current.groups[identity] == nil {
                transitions.append(.groupRemoved(group))
            }
            for group in current.sortedGroups {
                guard let old = previous.groups[group.identity] else {
                    transitions.append(.groupAdded(group))
                    continue
                }
                if old.type != group.type {
                    transitions.append(.groupTypeChanged(group, previousType: old.type))
                }
                for slot in group.drivers.keys.sorted() {
                    let was = old.drivers[slot] ?? nil, now = group.drivers[slot] ?? nil
                    if was != now { transitions.append(.driverChanged(group, slot: slot, previous: was, current: now)) }
                }
            }
        }
        if let was = previous?.posture, let now = current.posture, !now.changes(from: was).isEmpty {
            transitions.append(.postureChanged(now, previous: was))
        }
        for divergence in before.sortedDivergences where current.divergences[divergence.key] == nil {
            transitions.append(.divergenceResolved(divergence))
        }
        for divergence in current.sortedDivergences {
            if let old = before.divergences[divergence.key] {
                if old.severity != divergence.severity { transitions.append(.divergenceChanged(divergence, previous: old)) }
            } else {
                transitions.append(.divergenceAppeared(divergence))
            }
        }
        return transitions
    }
}
