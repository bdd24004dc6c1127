import ArgumentParser
import IOMMUSnapshot

@main
struct IOMMUWatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iommu-watch",
        abstract: "Watch the kernel's IOMMU groups and report where they diverge from the kernel's own rules.",
        discussion: """
            Reads /sys/kernel/iommu_groups and the PCI devices (or any captured root given with --root), \
            predicts what the kernel's IOMMU rules say they should be, and reports each divergence with a \
            stable id, a severity and what to do. Docs: docs/ in the source tree; `iommu-watch explain NAME`.
            """,
        version: "0.1.0",
        subcommands: [
            Scan.self, Explain.self, Simulate.self, Diff.self, SnapshotCommand.self, CatalogCommand.self, DaemonCommand.self, Status.self,
        ]
    )
}

/// `--root DIR`: the filesystem root holding `sys/` and `proc/`.
struct RootOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("Filesystem root holding sys/ and proc/; every path, links included, is resolved inside it.", valueName: "dir"))
    var root: String = "/"

    /// Reads the root, or says why it cannot and exits with status 2.
    func readSnapshot(recorder: ReadRecorder? = nil) throws -> Snapshot {
        try Self.readSnapshot(at: root, recorder: recorder)
    }

    /// Reads the root at `root`, or says why it cannot and exits with status 2.
    static func readSnapshot(at root: String, recorder: ReadRecorder? = nil) throws -> Snapshot {
        do {
            return try SnapshotReader.read(root: root, recorder: recorder)
        } catch {
            StandardStreams.error("cannot read root \(error.path): \(error.message)")
            throw ExitStatus.unreadable
        }
    }
}

/// `--format`: text for people, json for programs.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

/// A PCI function named on the command line (`--slot`, `--unplug`, `--bind`).
enum SlotArgument {
    /// `00:1f.2` (PCI domain 0) or `0000:00:1f.2`.
    static func parse(_ text: String) throws -> PCIAddress {
        if let address = PCIAddress(text) ?? PCIAddress("0000:" + text) { return address }
        throw ValidationError("\(text) is not a PCI address (0000:00:1f.2)")
    }
}
