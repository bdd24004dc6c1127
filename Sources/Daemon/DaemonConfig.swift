import IOMMUSnapshot
import Reconcile

/// The daemon's settings (docs/configuration.md). Parsed from `iommu-watch.conf` and its drop-ins.
public struct DaemonConfig: Sendable, Hashable {
    /// Full rescan this often, for changes that send no uevent (a write to a group's `type`). 0 = never.
    public var rescanInterval: Microseconds = 60 * Microseconds.second
    /// Wait this long after the last uevent of a burst before rescanning.
    public var debounce: Microseconds = 500 * Microseconds.millisecond
    /// Divergences below it are not logged; nor are group and driver events of lower priority.
    public var minimumSeverity: Severity = .info
    public var suppressions: [Suppression] = []
    /// Prometheus text file (node_exporter's textfile collector), rewritten after each rescan; nil = none.
    public var prometheusFile: String?

    public init() {}

    /// syslog priority of `minimumSeverity`: entries with a larger number are dropped.
    public var minimumPriority: Int { minimumSeverity.syslogPriority }

    /// Whether a divergence is logged and counted under this configuration.
    public func shows(_ divergence: Divergence) -> Bool {
        divergence.severity >= minimumSeverity && !suppressions.contains { $0.matches(divergence) }
    }

    /// The longest a burst of uevents may postpone its rescan: a device that keeps sending change
    /// events must not starve the watch.
    public var debounceLimit: Microseconds { max(debounce * 10, Microseconds.second) }
}

/// Microseconds, the unit of `CLOCK_MONOTONIC`, `WATCHDOG_USEC` and `MONOTONIC_USEC`.
public typealias Microseconds = UInt64

extension Microseconds {
    public static let millisecond: Microseconds = 1_000
    public static let second: Microseconds = 1_000_000
}

/// `Divergence=NAME [group=N] [slot=DDDD:BB:DD.F]`: hide divergences of one kind (or `*`, any kind),
/// optionally only in one group or for one PCI function.
public struct Suppression: Sendable, Hashable, CustomStringConvertible {
    /// Kebab-case kind name; nil matches every kind.
    public var divergence: String?
    public var group: Int?
    public var slot: PCIAddress?

    public init(divergence: String?, group: Int? = nil, slot: PCIAddress? = nil) {
        self.divergence = divergence
        self.group = group
        self.slot = slot
    }

    public func matches(_ candidate: Divergence) -> Bool {
        (divergence == nil || divergence == candidate.kind.name)
            && (group == nil || group == candidate.group)
            && (slot == nil || slot == candidate.slot)
    }

    public var description: String {
        ([divergence ?? "*"] + [group.map { "group=\($0)" }, slot.map { "slot=\($0)" }].compactMap { $0 }).joined(separator: " ")
    }
}

/// A configuration error, pointing at the file and line to fix.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based; 0 when the file as a whole is the problem.
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        return String(self.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
