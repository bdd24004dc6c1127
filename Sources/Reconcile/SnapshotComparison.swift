import IOMMUModel
import IOMMUSnapshot

/// What changed between two roots (`iommu-watch diff A B`): a kernel upgrade, a firmware update, two
/// hosts. Groups are matched by their members, never by number; pure, `Report.ComparisonReport`
/// renders it.
public struct SnapshotComparison: Sendable {
    /// One side: the root and what reconciling it found.
    public struct Side: Sendable {
        public var snapshot: Snapshot
        public var found: Reconciliation

        public init(snapshot: Snapshot, found: Reconciliation) {
            self.snapshot = snapshot
            self.found = found
        }
    }

    /// A group as the comparison names it: number and members.
    public struct GroupRef: Sendable, Hashable {
        public var id: Int
        public var members: [String]

        public init(id: Int, members: [String]) {
            self.id = id
            self.members = members
        }
    }

    public enum GroupChange: Sendable, Hashable {
        /// The same members under another number.
        case renumbered(from: GroupRef, to: GroupRef)
        /// One group's members now in several.
        case split(from: GroupRef, into: [GroupRef])
        /// Several groups' members now in one.
        case merged(from: [GroupRef], into: GroupRef)
        /// Members moved between several groups on both sides.
        case regrouped(from: [GroupRef], to: [GroupRef])
        /// Same members, another default domain type.
        case typeChanged(GroupRef, from: String?, to: String?)
        /// Same members, reserved regions added or gone (kernel lines).
        case regionsChanged(GroupRef, added: [String], removed: [String])
        case devicesAdded([String])
        case devicesRemoved([String])
    }

    public var kernel: (before: String?, after: String?)
    public var commandLine: (before: String?, after: String?)
    public var groupChanges: [GroupChange]
    public var postureBefore: Posture?
    public var postureAfter: Posture?
    /// Divergences by key: appeared, gone, changed severity or message.
    public var divergences: SimulationDiff

    public init(_ before: Side, _ after: Side) {
        kernel = (before.snapshot.kernel.release, after.snapshot.kernel.release)
        commandLine = (before.snapshot.kernel.commandLine?.raw, after.snapshot.kernel.commandLine?.raw)
        postureBefore = before.found.posture
        postureAfter = after.found.posture
        divergences = SimulationDiff(before: before.found.divergences, after: after.found.divergences)
        groupChanges = Self.groupChanges(before.snapshot.groups, after.snapshot.groups)
    }

    /// True when nothing differs but the numbers that stayed the same.
    public var isEmpty: Bool {
        kernel.before == kernel.after && commandLine.before == commandLine.after && groupChanges.isEmpty && postureChanged == false
            && divergences.appear.isEmpty && divergences.disappear.isEmpty && divergences.changed.isEmpty
    }

    /// A switch of `PostureSummary` changed, or the number of groups of a type.
    public var postureChanged: Bool {
        switch (postureBefore, postureAfter) {
        case (let a?, let b?): !PostureSummary(b).changes(from: PostureSummary(a)).isEmpty || a.groupTypes != b.groupTypes
        case (nil, nil): false
        default: true
        }
    }

    static func ref(_ group: IOMMUGroup) -> GroupRef { GroupRef(id: group.id, members: group.members.map(\.name).sorted()) }

    /// Groups linked by shared members form components; each component is one change (or none).
    static func groupChanges(_ before: [IOMMUGroup], _ after: [IOMMUGroup]) -> [GroupChange] {
        var changes: [GroupChange] = []
        let afterByMember = Dictionary(
            after.flatMap { group in group.members.map { ($0.name, group.id) } }, uniquingKeysWith: { first, _ in first })
        let beforeByMember = Dictionary(
            before.flatMap { group in group.members.map { ($0.name, group.id) } }, uniquingKeysWith: { first, _ in first })
        let beforeByID = Dictionary(before.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let afterByID = Dictionary(after.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var seenBefore: Set<Int> = []
        for start in before.sorted(by: { $0.id < $1.id }) where !seenBefore.contains(start.id) {
            // Walk the component: before → after through members, and back.
            var beforeIDs: Set<Int> = [start.id], afterIDs: Set<Int> = []
            var queue = [start.id]
            while let id = queue.popLast() {
                for member in beforeByID[id]?.members ?? [] {
                    guard let target = afterByMember[member.name], afterIDs.insert(target).inserted else { continue }
                    for back in afterByID[target]?.members ?? [] {
                        if let source = beforeByMember[back.name], beforeIDs.insert(source).inserted { queue.append(source) }
                    }
                }
            }
            seenBefore.formUnion(beforeIDs)
            let from = beforeIDs.sorted().compactMap { beforeByID[$0] }
            let to = afterIDs.sorted().compactMap { afterByID[$0] }
            switch (from.count, to.count) {
            case (_, 0): continue  // its devices are gone: reported below
            case (1, 1):
                let (a, b) = (from[0], to[0])
                let common = Set(a.members.map(\.name)).intersection(b.members.map(\.name))
                if common.count < a.members.count || common.count < b.members.count {
                    // Devices came or went; the rest stayed together.
                } else if a.id != b.id {
                    changes.append(.renumbered(from: ref(a), to: ref(b)))
                }
                if a.type.domainType != b.type.domainType {
                    changes.append(.typeChanged(ref(b), from: a.type.domainType?.rawValue, to: b.type.domainType?.rawValue))
                }
                let (linesA, linesB) = (a.reservedRegions.map(\.kernelLine), b.reservedRegions.map(\.kernelLine))
                let added = linesB.filter { !linesA.contains($0) }, removed = linesA.filter { !linesB.contains($0) }
                if !added.isEmpty || !removed.isEmpty { changes.append(.regionsChanged(ref(b), added: added, removed: removed)) }
            case (1, _): changes.append(.split(from: ref(from[0]), into: to.map(ref)))
            case (_, 1): changes.append(.merged(from: from.map(ref), into: ref(to[0])))
            default: changes.append(.regrouped(from: from.map(ref), to: to.map(ref)))
            }
        }
        let namesBefore = Set(beforeByMember.keys), namesAfter = Set(afterByMember.keys)
        let added = namesAfter.subtracting(namesBefore).sorted(), removed = namesBefore.subtracting(namesAfter).sorted()
        if !removed.isEmpty { changes.append(.devicesRemoved(removed)) }
        if !added.isEmpty { changes.append(.devicesAdded(added)) }
        return changes
    }
}
