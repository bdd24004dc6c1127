import FoundationEssentials
import Reconcile
#if canImport(Glibc)
import Glibc
#endif

/// `/run/iommu-watch/state.json`: what the daemon saw at its last reconcile, for `iommu-watch status`
/// and for tools. Replaced atomically after each reconcile. The field names are a stable interface.
public struct StateFile: Codable, Sendable, Hashable {
    public static let fileName = "state.json"
    public static let defaultFolder = "/run/iommu-watch"
    /// Bumped when a field changes meaning.
    public var version = 1
    public var pid: Int32
    public var root: String
    /// ISO 8601 UTC.
    public var started: String
    public var updated: String
    public var rescans: Int
    public var kernel: String?
    public var hasIOMMUGroups: Bool
    public var pciDevices: Int
    public var configFiles: [String]
    public var groups: [Group]
    public var divergences: [Entry]
    public var readErrors: [ReadProblem]

    public struct Group: Codable, Sendable, Hashable {
        public var id: Int
        public var type: String?
        public var members: [String]
        /// PCI member → driver; absent when unbound.
        public var drivers: [String: String]
    }

    public struct Entry: Codable, Sendable, Hashable {
        public var name: String
        public var messageID: String
        public var key: String
        public var severity: String
        public var group: Int?
        public var slot: String?
        public var message: String
        public var domainType: String?
        public var expected: String?
        public var observed: String?
        /// ISO 8601 UTC of the rescan that first saw it.
        public var since: String
        /// Hidden by `MinimumSeverity=` or a suppression: not logged, not counted in `STATUS=`.
        public var hidden: Bool
    }

    public struct ReadProblem: Codable, Sendable, Hashable {
        public var path: String
        public var message: String
    }

    public init(pid: Int32, root: String, started: String, updated: String, rescans: Int, configFiles: [String],
                state: ObservedState, since: [String: String], config: DaemonConfig) {
        self.pid = pid
        self.root = root
        self.started = started
        self.updated = updated
        self.rescans = rescans
        self.kernel = state.kernelRelease
        self.hasIOMMUGroups = state.hasIOMMUGroups
        self.pciDevices = state.pciDeviceCount
        self.configFiles = configFiles
        self.groups = state.sortedGroups.map { group in
            Group(id: group.id, type: group.type, members: group.members, drivers: group.drivers.compactMapValues { $0 })
        }
        self.divergences = state.sortedDivergences.map { divergence in
            Entry(name: divergence.kind.name, messageID: divergence.kind.messageID, key: divergence.key, severity: divergence.severity.rawValue,
                  group: divergence.group, slot: divergence.slot?.description, message: divergence.message,
                  domainType: divergence.domainType?.rawValue, expected: divergence.expected, observed: divergence.observed,
                  since: since[divergence.key] ?? updated, hidden: !config.shows(divergence))
        }
        self.readErrors = state.readErrors.keys.sorted().map { ReadProblem(path: $0, message: state.readErrors[$0]!) }
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data()) + [UInt8(ascii: "\n")]
    }

    public static func decode(_ bytes: [UInt8]) throws -> StateFile {
        try JSONDecoder().decode(StateFile.self, from: Data(bytes))
    }

    /// `2025-01-31T12:00:00Z` for a Unix time.
    public static func timestamp(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
