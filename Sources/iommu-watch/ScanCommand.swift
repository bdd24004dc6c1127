import ArgumentParser
import IOMMUSnapshot
import Reconcile
import Report

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the IOMMU groups once, compare them with the kernel's rules, and print both.",
        discussion: "Exit status: 0 no divergence at or above --fail-on, 1 some, 2 the root could not be read."
    )

    @OptionGroup var root: RootOption

    @Option(help: "Output format: text for people, json for programs (schema: docs/json.md).")
    var format: OutputFormat = .text

    @Option(name: .customLong("fail-on"), help: "Lowest severity that makes the exit status 1: error, warning, notice or info.")
    var failOn: Severity = .warning

    func run() throws {
        let snapshot = try root.readSnapshot()
        let found = Reconciler.reconcile(snapshot)
        switch format {
        case .json: StandardStreams.write(ScanJSON.render(snapshot, found))
        case .text: StandardStreams.write(ScanText.render(snapshot, found))
        }
        if found.divergences.contains(where: { $0.severity >= failOn }) { throw ExitStatus.divergent }
    }
}

extension Severity: ExpressibleByArgument {}
