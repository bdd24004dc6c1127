import IOMMUModel
import JSON
import Reconcile

/// `iommu-watch diff`'s renderings of a `SnapshotComparison`.
public enum ComparisonReport {
    public static func text(_ comparison: SnapshotComparison, before: String, after: String) -> String {
        var lines = ["Comparing \(before) (before) with \(after) (after)."]
        if comparison.isEmpty {
            lines.append("No change: same kernel, command line, groups, posture and divergences.")
            return TerminalText.lines(lines)
        }
        if comparison.kernel.before != comparison.kernel.after {
            lines.append("kernel: \(comparison.kernel.before ?? "unknown") → \(comparison.kernel.after ?? "unknown")")
        }
        if comparison.commandLine.before != comparison.commandLine.after {
            lines.append("cmdline before: \(comparison.commandLine.before ?? "unknown")")
            lines.append("cmdline after:  \(comparison.commandLine.after ?? "unknown")")
        }
        if let before = comparison.postureBefore, let after = comparison.postureAfter, comparison.postureChanged {
            lines.append("")
            lines += SimulationReport.postureLines(before: before, after: after, heading: "posture changed:", labels: ("before", "after "))
        }
        if !comparison.groupChanges.isEmpty {
            lines.append("")
            lines.append("groups (\(comparison.groupChanges.count) changes):")
            for change in comparison.groupChanges { lines.append("  " + sentence(change)) }
        }
        let divergences = comparison.divergences
        if !(divergences.appear.isEmpty && divergences.disappear.isEmpty && divergences.changed.isEmpty) {
            lines.append("")
            lines.append("divergences:")
            for item in divergences.appear { lines.append("  + [\(item.severity.rawValue)] \(item.kind.name): \(item.message)") }
            for item in divergences.disappear { lines.append("  - [\(item.severity.rawValue)] \(item.kind.name): \(item.message)") }
            for (was, now) in divergences.changed {
                lines.append("  ~ [\(was.severity.rawValue) → \(now.severity.rawValue)] \(now.kind.name): \(now.message)")
            }
        }
        return TerminalText.lines(lines)
    }

    static func name(_ group: SnapshotComparison.GroupRef) -> String { "group \(group.id) (\(group.members.joined(separator: ", ")))" }

    static func sentence(_ change: SnapshotComparison.GroupChange) -> String {
        switch change {
        case .renumbered(let from, let to): "renumbered: group \(from.id) is now group \(to.id) (\(to.members.joined(separator: ", ")))"
        case .split(let from, let into): "split: \(name(from)) → " + into.map(name).joined(separator: "; ")
        case .merged(let from, let into): "merged: " + from.map(name).joined(separator: "; ") + " → \(name(into))"
        case .regrouped(let from, let to):
            "regrouped: " + from.map(name).joined(separator: "; ") + " → " + to.map(name).joined(separator: "; ")
        case .typeChanged(let group, let from, let to): "type: \(name(group)) \(from ?? "none") → \(to ?? "none")"
        case .regionsChanged(let group, let added, let removed):
            "reserved regions of \(name(group)): " + (added.map { "+ \($0)" } + removed.map { "- \($0)" }).joined(separator: "; ")
        case .devicesAdded(let names): "devices added: " + names.joined(separator: ", ")
        case .devicesRemoved(let names): "devices removed: " + names.joined(separator: ", ")
        }
    }

    /// `{"changed", "kernel", "cmdline", "groups", "postureBefore", "postureAfter", "divergences…"}` (docs/json.md).
    public static func json(_ comparison: SnapshotComparison) -> [UInt8] {
        var json = JSONWriter(reservingCapacity: 4096)
        json.object { json in
            json.field("changed", !comparison.isEmpty)
            json.object("kernel") { json in
                json.field("before", comparison.kernel.before)
                json.field("after", comparison.kernel.after)
            }
            json.object("cmdline") { json in
                json.field("before", comparison.commandLine.before)
                json.field("after", comparison.commandLine.after)
            }
            json.array("groups") { json in
                for change in comparison.groupChanges {
                    json.object { json in
                        let (kind, from, to) = parts(change)
                        json.field("change", kind)
                        json.array("devices") { json in for name in devices(change) { json.value(name) } }
                        for (key, refs) in [("from", from), ("to", to)] {
                            json.array(key) { json in
                                for group in refs {
                                    json.object { json in
                                        json.field("id", group.id)
                                        json.array("members") { json in for member in group.members { json.value(member) } }
                                    }
                                }
                            }
                        }
                        json.field("sentence", sentence(change))
                    }
                }
            }
            if let before = comparison.postureBefore { PostureReport.write(before, key: "postureBefore", into: &json) }
            if let after = comparison.postureAfter { PostureReport.write(after, key: "postureAfter", into: &json) }
            ScanJSON.divergenceArray("divergencesAppeared", comparison.divergences.appear, into: &json)
            ScanJSON.divergenceArray("divergencesResolved", comparison.divergences.disappear, into: &json)
            ScanJSON.divergenceArray("divergencesChanged", comparison.divergences.changed.map(\.after), into: &json)
        }
        return json.bytes + [0x0a]
    }

    static func parts(_ change: SnapshotComparison.GroupChange) -> (String, [SnapshotComparison.GroupRef], [SnapshotComparison.GroupRef]) {
        switch change {
        case .renumbered(let from, let to): ("renumbered", [from], [to])
        case .split(let from, let into): ("split", [from], into)
        case .merged(let from, let into): ("merged", from, [into])
        case .regrouped(let from, let to): ("regrouped", from, to)
        case .typeChanged(let group, _, _): ("type", [group], [group])
        case .regionsChanged(let group, _, _): ("regions", [group], [group])
        case .devicesAdded: ("devices-added", [], [])
        case .devicesRemoved: ("devices-removed", [], [])
        }
    }

    /// The devices a `devices-added` or `devices-removed` change names; none for group changes.
    static func devices(_ change: SnapshotComparison.GroupChange) -> [String] {
        switch change {
        case .devicesAdded(let names), .devicesRemoved(let names): names
        default: []
        }
    }
}
