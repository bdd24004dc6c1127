import IOMMUModel
import JSON
import Reconcile
#if canImport(Glibc)
    import Glibc
#endif

/// `/run/iommu-watch/state.json`: what the daemon saw at its last reconcile, for `iommu-watch status`
/// and for tools. Replaced atomically after each reconcile. The field names are a stable interface.
/// Written by `JSONWriter` in the documented field order, absent values as `null`; read back by the
/// strict `JSONReader`, which also accepts absent optional fields and unknown ones.
public struct StateFile: Sendable, Hashable {
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
    /// Absent in state files written before the posture existed.
    public var posture: PostureSummary?
    /// Questions the rules could not answer for lack of data.
    public var unverified: [String] = []

    public struct Group: Sendable, Hashable {
        public var id: Int
        public var type: String?
        public var members: [String]
        /// PCI member → driver; absent when unbound.
        public var drivers: [String: String]
    }

    public struct Entry: Sendable, Hashable {
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

    public struct ReadProblem: Sendable, Hashable {
        public var path: String
        public var message: String
    }

    public init(
        pid: Int32, root: String, started: String, updated: String, rescans: Int, configFiles: [String],
        state: ObservedState, since: [String: String], config: DaemonConfig
    ) {
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
            Entry(
                name: divergence.kind.name, messageID: divergence.kind.messageID, key: divergence.key,
                severity: divergence.severity.rawValue,
                group: divergence.group, slot: divergence.slot?.description, message: divergence.message,
                domainType: divergence.domainType?.rawValue, expected: divergence.expected, observed: divergence.observed,
                since: since[divergence.key] ?? updated, hidden: !config.shows(divergence))
        }
        self.readErrors = state.readErrors.sorted { $0.key < $1.key }.map { ReadProblem(path: $0.key, message: $0.value) }
        self.posture = state.posture
        self.unverified = state.unverified
    }

    /// Largest state file `decode` accepts: far above any machine's (about 1 KiB per group).
    public static let readLimits = JSONReader.Limits(bytes: 16 << 20, depth: 8, values: 4 << 20)

    public func encoded() -> [UInt8] {
        var json = JSONWriter(reservingCapacity: 1024 + groups.count * 256 + divergences.count * 512)
        json.object { json in
            json.field("version", version)
            json.field("pid", Int(pid))
            json.field("root", root)
            json.field("started", started)
            json.field("updated", updated)
            json.field("rescans", rescans)
            json.field("kernel", kernel)
            json.field("hasIOMMUGroups", hasIOMMUGroups)
            json.field("pciDevices", pciDevices)
            json.array("configFiles") { json in
                for file in configFiles { json.value(file) }
            }
            json.array("groups") { json in
                for group in groups {
                    json.object { json in
                        json.field("id", group.id)
                        json.field("type", group.type)
                        json.array("members") { json in
                            for member in group.members { json.value(member) }
                        }
                        json.object("drivers") { json in
                            for member in group.drivers.keys.sorted() { json.field(member, group.drivers[member]) }
                        }
                    }
                }
            }
            json.array("divergences") { json in
                for entry in divergences {
                    json.object { json in
                        json.field("name", entry.name)
                        json.field("messageId", entry.messageID)
                        json.field("key", entry.key)
                        json.field("severity", entry.severity)
                        json.field("group", entry.group)
                        json.field("slot", entry.slot)
                        json.field("message", entry.message)
                        json.field("domainType", entry.domainType)
                        json.field("expected", entry.expected)
                        json.field("observed", entry.observed)
                        json.field("since", entry.since)
                        json.field("hidden", entry.hidden)
                    }
                }
            }
            json.array("readErrors") { json in
                for problem in readErrors {
                    json.object { json in
                        json.field("path", problem.path)
                        json.field("message", problem.message)
                    }
                }
            }
            if let posture {
                json.object("posture") { json in
                    json.field("mode", posture.mode)
                    json.field("decidedBy", posture.decidedBy)
                    json.field("asPredicted", posture.asPredicted)
                    json.field("interruptRemapping", posture.interruptRemapping)
                    json.field("iommufd", posture.iommufd)
                    json.field("noIOMMUGroups", posture.noIOMMUGroups)
                    json.field("vfioNoIOMMUMode", posture.vfioNoIOMMUMode)
                    json.field("vfioUnsafeInterrupts", posture.vfioUnsafeInterrupts)
                }
            }
            json.array("unverified") { json in
                for question in unverified { json.value(question) }
            }
        }
        return json.bytes + [UInt8(ascii: "\n")]
    }

    /// Reads a state file back; `file` names it in errors. Refuses anything but the documented shape.
    public static func decode(_ bytes: [UInt8], file: String = fileName) throws(JSONReadError) -> StateFile {
        let fields = try JSONFields(try JSONReader.parse(bytes, file: file, limits: readLimits), file: file)
        let pid = try fields.int("pid")
        guard let pid32 = Int32(exactly: pid), pid32 > 0 else {
            throw JSONReadError(file: file, offset: nil, reason: .field("pid", expected: "a process ID", found: "\(pid)"))
        }
        return StateFile(
            version: try fields.int("version"), pid: pid32, root: try fields.string("root"),
            started: try fields.string("started"), updated: try fields.string("updated"), rescans: try fields.int("rescans"),
            kernel: try fields.optionalString("kernel"), hasIOMMUGroups: try fields.bool("hasIOMMUGroups"),
            pciDevices: try fields.int("pciDevices"), configFiles: try fields.strings("configFiles"),
            groups: try fields.objects("groups") { group throws(JSONReadError) in
                Group(
                    id: try group.int("id"), type: try group.optionalString("type"), members: try group.strings("members"),
                    drivers: try group.stringMap("drivers"))
            },
            divergences: try fields.objects("divergences") { entry throws(JSONReadError) in
                Entry(
                    name: try entry.string("name"), messageID: try entry.string("messageId"), key: try entry.string("key"),
                    severity: try entry.string("severity"), group: try entry.optionalInt("group"), slot: try entry.optionalString("slot"),
                    message: try entry.string("message"), domainType: try entry.optionalString("domainType"),
                    expected: try entry.optionalString("expected"), observed: try entry.optionalString("observed"),
                    since: try entry.string("since"), hidden: try entry.bool("hidden"))
            },
            readErrors: try fields.objects("readErrors") { problem throws(JSONReadError) in
                ReadProblem(path: try problem.string("path"), message: try problem.string("message"))
            },
            posture: try fields.optionalObject("posture") { posture throws(JSONReadError) in
                PostureSummary(
                    mode: try posture.string("mode"), decidedBy: try posture.string("decidedBy"),
                    asPredicted: try posture.bool("asPredicted"),
                    interruptRemapping: try posture.string("interruptRemapping"), iommufd: try posture.string("iommufd"),
                    noIOMMUGroups: try posture.int("noIOMMUGroups"), vfioNoIOMMUMode: try posture.string("vfioNoIOMMUMode"),
                    vfioUnsafeInterrupts: try posture.string("vfioUnsafeInterrupts"))
            },
            unverified: try fields.optionalStrings("unverified"))
    }

    /// Every field as given (for `decode` and tests).
    public init(
        version: Int = 1, pid: Int32, root: String, started: String, updated: String, rescans: Int, kernel: String?,
        hasIOMMUGroups: Bool, pciDevices: Int, configFiles: [String], groups: [Group], divergences: [Entry], readErrors: [ReadProblem],
        posture: PostureSummary? = nil, unverified: [String] = []
    ) {
        self.posture = posture
        self.unverified = unverified
        self.version = version
        self.pid = pid
        self.root = root
        self.started = started
        self.updated = updated
        self.rescans = rescans
        self.kernel = kernel
        self.hasIOMMUGroups = hasIOMMUGroups
        self.pciDevices = pciDevices
        self.configFiles = configFiles
        self.groups = groups
        self.divergences = divergences
        self.readErrors = readErrors
    }

    /// `2025-01-31T12:00:00Z` for a Unix time.
    public static func timestamp(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
