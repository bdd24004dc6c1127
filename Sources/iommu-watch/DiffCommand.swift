import ArgumentParser
import IOMMUSnapshot
import Reconcile
import Report

/// `iommu-watch diff A B`: what changed between two roots.
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two roots or snapshots: groups split, merged or renumbered, types, regions, posture, divergences.",
        discussion:
            "Groups are matched by their members, never by number. Exit status: 0 nothing changed, 1 something did, 2 a root could not be read."
    )

    @Argument(help: ArgumentHelp("The root before (a snapshot folder, or / for this machine).", valueName: "before"))
    var before: String

    @Argument(help: ArgumentHelp("The root after.", valueName: "after"))
    var after: String

    @Option(help: "Output format: text for people, json for programs (docs/json.md).")
    var format: OutputFormat = .text

    func run() throws {
        let sides = try [before, after].map { path in
            let snapshot = try RootOption.readSnapshot(at: path)
            return SnapshotComparison.Side(snapshot: snapshot, found: Reconciler.reconcile(snapshot))
        }
        let comparison = SnapshotComparison(sides[0], sides[1])
        switch format {
        case .json: StandardStreams.write(ComparisonReport.json(comparison))
        case .text: StandardStreams.write(ComparisonReport.text(comparison, before: before, after: after))
        }
        if !comparison.isEmpty { throw ExitStatus.divergent }
    }
}
