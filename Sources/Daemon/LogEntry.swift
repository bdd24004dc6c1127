import Reconcile
import Report
import Systemd

/// One message as the daemon means it: a sentence, a priority and the structured fields of
/// docs/daemon.md ("What is logged"). The sink turns it into a journal entry or a stderr line.
public struct LogEntry: Sendable, Hashable {
    /// syslog priority, 0 (emerg) … 7 (debug).
    public var priority: Int
    /// A full sentence.
    public var message: String
    /// Everything but `MESSAGE`, `PRIORITY` and `SYSLOG_IDENTIFIER`, in order; names may repeat
    /// (one `PCI_SLOT=` per member).
    public var fields: [JournalField]

    public init(priority: Int, message: String, fields: [JournalField] = []) {
        self.priority = priority
        self.message = message
        self.fields = fields
    }

    public static let identifier = "iommu-watch"

    /// The entry for `sd_journal_sendv`. `MESSAGE=` is what `journalctl` prints to a terminal, so it
    /// goes through `TerminalText`; the structured fields keep the raw values for queries.
    public var journalFields: [JournalField] {
        [
            JournalField("MESSAGE", TerminalText.line(message)), JournalField("PRIORITY", String(priority)),
            JournalField("SYSLOG_IDENTIFIER", Self.identifier),
        ] + fields
    }

    /// `<4>iommu-watch: message [IOMMU_GROUP=8 PCI_SLOT=…]` — the kernel's `<N>` prefix lets a
    /// stderr connected to journald keep the priority; people read the rest.
    public var stderrLine: String {
        let shown = fields.filter { $0.name != "MESSAGE_ID" }.map { "\($0.name)=\($0.value)" }
        return TerminalText.line(
            "<\(priority)>\(Self.identifier): \(message)" + (shown.isEmpty ? "" : " [" + shown.joined(separator: " ") + "]"))
    }

    /// The first value of field `name`.
    public func field(_ name: String) -> String? { fields.first { $0.name == name }?.value }
}

/// Transitions and lifecycle events → log entries. Pure.
public enum EntryRenderer {
    /// The entry for one transition; nil when the configuration hides it.
    public static func entry(for transition: Transition, kernel: String?, config: DaemonConfig) -> LogEntry? {
        var entry: LogEntry
        switch transition {
        case .divergenceAppeared(let divergence):
            guard config.shows(divergence) else { return nil }
            entry = divergenceEntry(divergence, .appeared, message: divergence.message)
        case .divergenceChanged(let divergence, let previous):
            guard config.shows(divergence) || config.shows(previous) else { return nil }
            entry = divergenceEntry(
                divergence, .changed,
                message: divergence.message + " (Severity was \(previous.severity.rawValue), now \(divergence.severity.rawValue).)")
        case .divergenceResolved(let divergence):
            // Resolved only where the appearance was shown, so the pair stays a pair.
            guard config.shows(divergence) else { return nil }
            entry = DaemonEvent.divergenceResolved.entry(
                "Resolved: \(divergence.kind.name) \(subject(of: divergence)) no longer shows.", fields: divergenceFields(divergence))
        case .groupAdded(let group):
            entry = groupEntry(
                .groupAdded, group,
                message: "IOMMU group \(group.id) appeared with \(memberPhrase(group)).")
        case .groupRemoved(let group):
            entry = groupEntry(
                .groupRemoved, group,
                message: "IOMMU group \(group.id) with \(memberPhrase(group)) went away.")
        case .groupTypeChanged(let group, let previous):
            entry = groupEntry(
                .groupTypeChanged, group,
                message: "IOMMU group \(group.id) changed its default domain type from \(previous ?? "none") to \(group.type ?? "none").")
            entry.fields += [
                JournalField("DOMAIN_TYPE", group.type ?? "none"), JournalField("EXPECTED", previous ?? "none"),
                JournalField("OBSERVED", group.type ?? "none"),
            ]
        case .driverChanged(let group, let slot, let previous, let current):
            let sentence =
                switch (previous, current) {
                case (nil, let now?): "PCI device \(slot) in IOMMU group \(group.id) was bound to \(now)."
                case (let was?, nil): "PCI device \(slot) in IOMMU group \(group.id) was unbound from \(was)."
                default: "PCI device \(slot) in IOMMU group \(group.id) was rebound from \(previous ?? "none") to \(current ?? "none")."
                }
            entry = DaemonEvent.driverChanged.entry(
                sentence,
                fields: [
                    JournalField("IOMMU_GROUP", String(group.id)), JournalField("PCI_SLOT", slot),
                    JournalField("EXPECTED", previous ?? "none"), JournalField("OBSERVED", current ?? "none"),
                ])
            if let type = group.type { entry.fields.append(JournalField("DOMAIN_TYPE", type)) }
        case .readErrorAppeared(let path, let why):
            entry = DaemonEvent.readError.entry("Cannot read \(path): \(why).", fields: [JournalField("IOMMU_WATCH_PATH", path)])
        case .postureChanged(let now, let was):
            entry = DaemonEvent.postureChanged.entry(
                "IOMMU posture changed: \(now.changes(from: was).joined(separator: "; ")).",
                fields: [
                    JournalField("IOMMU_WATCH_MODE", now.mode), JournalField("EXPECTED", was.line), JournalField("OBSERVED", now.line),
                ])
        case .readErrorResolved(let path, _):
            entry = DaemonEvent.readErrorResolved.entry("\(path) can be read again.", fields: [JournalField("IOMMU_WATCH_PATH", path)])
        }
        guard entry.priority <= config.minimumPriority || isDivergence(transition) else { return nil }
        if let kernel { entry.fields.append(JournalField("KERNEL", kernel)) }
        return entry
    }

    /// The summary entry after the first reconcile.
    public static func started(_ state: ObservedState, root: String) -> LogEntry {
        let counts = Severity.allCases.map { severity in (severity, state.divergences.values.filter { $0.severity == severity }.count) }
        let total = state.divergences.count
        let bySeverity = counts.filter { $0.1 > 0 }.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", ")
        let groups = state.hasIOMMUGroups ? "\(state.groups.count) IOMMU groups" : "no IOMMU groups (the IOMMU is absent or disabled)"
        var message = "Watching \(groups) with \(state.pciDeviceCount) PCI devices"
        message += total == 0 ? "; no divergences." : "; \(total) divergences (\(bySeverity))."
        if let posture = state.posture { message += " Mode \(posture.mode): \(posture.decidedBy)." }
        var fields = [
            JournalField("IOMMU_WATCH_ROOT", root), JournalField("IOMMU_WATCH_GROUPS", String(state.groups.count)),
            JournalField("IOMMU_WATCH_DEVICES", String(state.pciDeviceCount)),
        ]
        fields += counts.map { JournalField("IOMMU_WATCH_" + $0.0.rawValue.uppercased() + "S", String($0.1)) }
        if let kernel = state.kernelRelease { fields.append(JournalField("KERNEL", kernel)) }
        if let posture = state.posture { fields.append(JournalField("IOMMU_WATCH_MODE", posture.mode)) }
        return DaemonEvent.started.entry(message, fields: fields)
    }

    // MARK: pieces

    private static func isDivergence(_ transition: Transition) -> Bool {
        switch transition {
        case .divergenceAppeared, .divergenceChanged, .divergenceResolved: true
        default: false
        }
    }

    /// An appearance or a change: the kind's `MESSAGE_ID`, the divergence's severity.
    private static func divergenceEntry(_ divergence: Divergence, _ event: DivergenceEvent, message: String) -> LogEntry {
        let head = [JournalField("MESSAGE_ID", divergence.kind.messageID), JournalField("IOMMU_WATCH_EVENT", event.rawValue)]
        return LogEntry(priority: divergence.severity.syslogPriority, message: message, fields: head + divergenceFields(divergence))
    }

    /// What identifies a divergence in its entries.
    private static func divergenceFields(_ divergence: Divergence) -> [JournalField] {
        var fields = [
            JournalField("IOMMU_WATCH_DIVERGENCE", divergence.kind.name), JournalField("IOMMU_WATCH_KEY", divergence.key),
            JournalField("IOMMU_WATCH_SEVERITY", divergence.severity.rawValue),
        ]
        if let group = divergence.group { fields.append(JournalField("IOMMU_GROUP", String(group))) }
        if let slot = divergence.slot { fields.append(JournalField("PCI_SLOT", slot.description)) }
        if let type = divergence.domainType { fields.append(JournalField("DOMAIN_TYPE", type.rawValue)) }
        if let expected = divergence.expected { fields.append(JournalField("EXPECTED", expected)) }
        if let observed = divergence.observed { fields.append(JournalField("OBSERVED", observed)) }
        return fields
    }

    private static func groupEntry(_ event: DaemonEvent, _ group: GroupState, message: String) -> LogEntry {
        var fields = [
            JournalField("IOMMU_GROUP", String(group.id)), JournalField("IOMMU_WATCH_MEMBERS", group.members.joined(separator: " ")),
        ]
        fields += group.pciSlots.map { JournalField("PCI_SLOT", $0) }
        if event != .groupTypeChanged, let type = group.type { fields.append(JournalField("DOMAIN_TYPE", type)) }
        return event.entry(message, fields: fields)
    }

    private static func subject(of divergence: Divergence) -> String {
        if let slot = divergence.slot { return "for PCI device \(slot)" }
        if let group = divergence.group { return "for IOMMU group \(group)" }
        return "(key \(divergence.key))"
    }

    private static func memberPhrase(_ group: GroupState) -> String {
        switch group.members.count {
        case 0: "no devices"
        case 1: "device \(group.members[0])"
        default: "devices " + group.members.joined(separator: ", ")
        }
    }
}
