import IOMMUModel
import IOMMUSnapshot
import Reconcile

/// What the daemon remembers between two rescans: just enough to tell what changed.
/// Groups are identified by their member set, never by number, because the kernel reuses numbers.
public struct ObservedState: Sendable, Hashable {
    /// By identity (member names joined), so a renumbered group is the same group.
    public var groups: [String: GroupState]
    /// By `Divergence.key`.
    public var divergences: [String: Divergence]
    /// Files the reader could not read or parse, by root-relative path → why.
    public var readErrors: [String: String]
    public var kernelRelease: String?
    public var pciDeviceCount: Int
    /// False when the root has no `sys/kernel/iommu_groups` at all.
    public var hasIOMMUGroups: Bool
    /// Which mode the machine is in; nil before anything was read.
    public var posture: PostureSummary?
    /// Questions about groups the rules could not answer for lack of data (`Unverified.sentence`).
    public var unverified: [String] = []

    public init(
        groups: [GroupState] = [], divergences: [Divergence] = [], readErrors: [String: String] = [:],
        kernelRelease: String? = nil, pciDeviceCount: Int = 0, hasIOMMUGroups: Bool = true
    ) {
        self.groups = Dictionary(groups.map { ($0.identity, $0) }, uniquingKeysWith: { first, _ in first })
        self.divergences = Dictionary(divergences.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        self.readErrors = readErrors
        self.kernelRelease = kernelRelease
        self.pciDeviceCount = pciDeviceCount
        self.hasIOMMUGroups = hasIOMMUGroups
    }

    /// The state one snapshot and its reconciliation show.
    public init(snapshot: Snapshot, found: Reconciliation) {
        self.init(snapshot: snapshot, divergences: found.divergences)
        posture = found.posture.map(PostureSummary.init)
        unverified = found.unverified.map(\.sentence)
    }

    /// The state one snapshot and its divergences show.
    public init(snapshot: Snapshot, divergences: [Divergence]) {
        let drivers = Dictionary(snapshot.pciDevices.map { ($0.address.description, $0.driver) }, uniquingKeysWith: { first, _ in first })
        let groups = snapshot.groups.map { group in
            GroupState(
                id: group.id, members: group.members.map(\.name), type: group.type.domainType?.rawValue,
                drivers: Dictionary(
                    group.pciMembers.map { ($0.description, drivers[$0.description] ?? nil) }, uniquingKeysWith: { first, _ in first }))
        }
        var errors: [String: String] = [:]
        for error in snapshot.errors { errors[error.path] = error.message }
        self.init(
            groups: groups, divergences: divergences, readErrors: errors, kernelRelease: snapshot.kernel.release,
            pciDeviceCount: snapshot.pciDevices.count, hasIOMMUGroups: snapshot.hasIOMMUGroupsFolder)
    }

    /// Groups by number, for display.
    public var sortedGroups: [GroupState] { groups.values.sorted { ($0.id, $0.identity) < ($1.id, $1.identity) } }

    /// Divergences most severe first, then by key.
    public var sortedDivergences: [Divergence] {
        divergences.values.sorted { ($1.severity, $0.key) < ($0.severity, $1.key) }
    }
}

/// One IOMMU group as far as transitions care.
public struct GroupState: Sendable, Hashable, Codable {
    /// The number the kernel shows now; may belong to another member set later.
    public var id: Int
    /// Member names (`0000:00:1f.2`, `MSFT0201:00`), sorted.
    public var members: [String]
    /// `type` as the kernel prints it (`DMA-FQ`, `identity`), nil when the file is absent.
    public var type: String?
    /// PCI member → bound driver (nil when unbound).
    public var drivers: [String: String?]

    public init(id: Int, members: [String], type: String?, drivers: [String: String?] = [:]) {
        self.id = id
        self.members = members.sorted()
        self.type = type
        self.drivers = drivers
    }

    /// What makes this group this group: its members. A group with none (a folder whose
    /// `devices/` is empty or unreadable, as during a hot-unplug) has nothing but its number;
    /// keyed by the empty member set, two such groups would be one and the second never logged.
    public var identity: String { members.isEmpty ? "#\(id)" : members.joined(separator: " ") }

    /// PCI members, sorted.
    public var pciSlots: [String] { members.filter { PCIAddress($0) != nil } }
}
