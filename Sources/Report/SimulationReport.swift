import IOMMUModel
import JSON
import Reconcile

/// `iommu-watch simulate`'s renderings of a `SimulationDiff`.
public enum SimulationReport {
    /// The notes, then what would appear, disappear and change, and how many stay the same.
    public static func text(_ diff: SimulationDiff) -> String {
        var lines = diff.notes.map { "• " + $0 }
        func section(_ title: String, _ items: [Divergence], sign: String) {
            lines.append("")
            lines.append("\(title) (\(items.count))")
            for item in items { lines.append("  \(sign) [\(item.severity.rawValue)] \(item.kind.name): \(item.message)") }
        }
        section("would appear", diff.appear, sign: "+")
        section("would disappear", diff.disappear, sign: "-")
        lines.append("")
        lines.append("would change (\(diff.changed.count))")
        for (before, after) in diff.changed {
            lines.append("  ~ [\(before.severity.rawValue) → \(after.severity.rawValue)] \(after.kind.name): \(after.message)")
        }
        lines.append("")
        lines.append("unchanged: \(diff.unchanged.count)")
        if let before = diff.postureBefore, let after = diff.postureAfter {
            lines.append("")
            lines += postureLines(before: before, after: after)
        }
        return TerminalText.lines(lines)
    }

    /// The posture lines that would change, each as now and after; one line when none would.
    static func postureLines(
        before: Posture, after: Posture, heading: String = "posture would change:", labels: (String, String) = ("now   ", "after ")
    ) -> [String] {
        let (now, then) = (PostureReport.lines(before), PostureReport.lines(after))
        var lines: [String] = []
        for (index, line) in then.enumerated() where index >= now.count || now[index] != line {
            if index < now.count { lines.append("  \(labels.0) " + now[index]) }
            lines.append("  \(labels.1) " + line)
        }
        return lines.isEmpty ? ["posture unchanged: \(after.mode.words)"] : [heading] + lines
    }

    /// `{"notes", "appear", "disappear", "change", "unchanged"}`; each divergence as `name`,
    /// as in `scan`'s `divergences` (docs/json.md).
    public static func json(_ diff: SimulationDiff) -> [UInt8] {
        var json = JSONWriter(reservingCapacity: 4096)
        json.object { json in
            json.array("notes") { json in
                for note in diff.notes { json.value(note) }
            }
            ScanJSON.divergenceArray("appear", diff.appear, into: &json)
            ScanJSON.divergenceArray("disappear", diff.disappear, into: &json)
            ScanJSON.divergenceArray("change", diff.changed.map(\.after), into: &json)
            json.field("unchanged", diff.unchanged.count)
            if let before = diff.postureBefore, let after = diff.postureAfter {
                PostureReport.write(before, key: "postureBefore", into: &json)
                PostureReport.write(after, key: "postureAfter", into: &json)
            }
        }
        return json.bytes
    }
}
