import ArgumentParser
import IOMMUSnapshot

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Copy exactly the files iommu-watch reads into a portable root, for bug reports and --root replay.",
        discussion: "Links are copied as links. `scan --root OUT --format json` prints the same bytes as on the original root."
    )

    @OptionGroup var root: RootOption

    @Option(name: .shortAndLong, help: ArgumentHelp("Folder to create (or an empty one) for the copy.", valueName: "dir"))
    var output: String

    func run() throws {
        let recorder = TreeRecorder()
        let snapshot = try root.readSnapshot(recorder: recorder)
        do {
            try recorder.write(to: output)
        } catch {
            StandardStreams.error("cannot write snapshot \(error.path): \(error.message)")
            throw ExitCode.failure
        }
        StandardStreams.write(
            "Wrote \(recorder.entries.count) entries (\(snapshot.groups.count) groups, \(snapshot.pciDevices.count) PCI devices) to \(output)\n",
            to: 2)
        for error in snapshot.errors { StandardStreams.error("not copied, could not read \(error.path): \(error.message)") }
    }
}
