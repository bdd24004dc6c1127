import IOMMUModel
import IOMMUSnapshot

/// Snapshot in, divergences out. Pure: no file, clock or libsystemd.
public enum Reconciler {
    /// Every divergence the snapshot shows, most severe first, then by key.
    public static func divergences(in snapshot: Snapshot) -> [Divergence] {
        divergences(in: snapshot, prediction: Model.predict(snapshot))
    }

    /// The same against a prediction the caller already has (`simulate` predicts from overridden inputs).
    public static func divergences(in snapshot: Snapshot, prediction: Prediction) -> [Divergence] {
        reconcile(snapshot, prediction: prediction).divergences
    }

    /// Divergences, what could not be checked for lack of data (never counted as either), whether the
    /// model says the IOMMU translates at all, and why each multi-device group is one.
    public static func reconcile(_ snapshot: Snapshot, prediction: Prediction? = nil) -> Reconciliation {
        let prediction = prediction ?? Model.predict(snapshot)
        var check = Check(snapshot: snapshot, prediction: prediction)
        check.run()
        let divergences = check.found.sorted { ($0.severity, $1.key) > ($1.severity, $0.key) }
        let unverified = check.unverified.sorted { ($0.group ?? -1, $0.question) < ($1.group ?? -1, $1.question) }
        var found = Reconciliation(
            divergences: divergences, unverified: unverified, translation: prediction.policy.translation,
            reasons: reasons(in: snapshot, prediction: prediction), posture: Model.posture(of: snapshot, prediction: prediction))
        for group in snapshot.groups { found.vfio[group.id] = Model.vfioReadiness(of: group, in: snapshot, context: prediction.context) }
        return found
    }

    /// Divergences that exist only as a change between two consecutive snapshots: a group released while
    /// it used the shared identity domain, on a release that does not keep that domain alive.
    /// `protectsSharedIdentityDomain` overrides the release's rule (for what-if runs and tests).
    public static func transitions(from previous: Snapshot, to current: Snapshot, protectsSharedIdentityDomain: Bool? = nil) -> [Divergence]
    {
        let prediction = Model.predict(previous)
        let identityGroups = previous.groups.filter { $0.type.domainType == .identity }
        let structure = prediction.identityStructure(identityGroups: identityGroups.map(\.pciMembers))
        let stillThere = Set(current.groups.flatMap(\.pciMembers))
        var found: [Divergence] = []
        for share in structure where share.isShared && !(protectsSharedIdentityDomain ?? share.lifetimeProtected) {
            for group in identityGroups where share.groups.contains(group.pciMembers) && stillThere.isDisjoint(with: group.pciMembers) {
                let members = group.pciMembers
                found.append(
                    Divergence(
                        kind: Catalog.groupReleasedWhileShared, key: Catalog.groupReleasedWhileShared.name + ":" + Names.key(members),
                        group: group.id, slot: members.first,
                        message:
                            "group \(group.id) (\(Names.list(members))) went away while its default domain was \(share.object.description); this release does not keep that domain alive, so the \(share.groups.count - 1) other identity group(s) may be left with freed page tables",
                        domainType: .identity, expected: "shared domain kept alive", observed: "group released"))
            }
        }
        return found
    }
}

/// Short device names and stable keys.
enum Names {
    /// `00:1f.2` in PCI domain 0, the full `0000:00:1f.2` elsewhere.
    static func short(_ address: PCIAddress) -> String {
        address.domain == 0 ? String(address.description.dropFirst(5)) : address.description
    }

    static func list(_ addresses: [PCIAddress]) -> String {
        let names = addresses.sorted().map(short)
        switch names.count {
        case 0: return "no devices"
        case 1: return names[0]
        default: return names.dropLast().joined(separator: ", ") + " and " + names.last!
        }
    }

    /// Built from member addresses, never from group numbers (they are reused).
    static func key(_ members: [PCIAddress]) -> String { members.sorted().map(\.description).joined(separator: "+") }

    static func groups(_ ids: [Int]) -> String {
        let sorted = ids.sorted().map(String.init)
        return sorted.count == 1 ? "group \(sorted[0])" : "groups " + sorted.joined(separator: ", ")
    }
}
