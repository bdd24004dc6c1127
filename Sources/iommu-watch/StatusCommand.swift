import ArgumentParser
import Daemon
import JSON
import Report
#if canImport(Glibc)
    import Glibc
#endif

/// `iommu-watch status`: what the running daemon saw at its last rescan.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the running daemon's state.",
        discussion:
            "Reads STATE-DIR/state.json, which the daemon replaces after every rescan. Exit status: 0 when the daemon is running, 3 when it is not (no state file, or its process is gone)."
    )

    @OptionGroup var rootOption: RootOption
    var root: String { rootOption.root }

    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Folder of state.json.", valueName: "dir"))
    var stateDirectory = StateFile.defaultFolder

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func run() throws {
        let path = (root == "/" ? "" : root) + stateDirectory + "/" + StateFile.fileName
        let bytes: [UInt8]?
        do throws(Files.Failure) {
            bytes = try Files.read(path, limit: StateFile.readLimits.bytes)
        } catch {
            StandardStreams.error("cannot read \(error)")
            throw ExitCode(4)
        }
        guard let bytes else {
            StandardStreams.write(TerminalText.lines(["iommu-watch daemon is not running: \(path) does not exist."]))
            throw ExitCode(3)
        }
        let state: StateFile
        do throws(JSONReadError) {
            state = try StateFile.decode(bytes, file: path)
        } catch {
            StandardStreams.error("not a state file: \(error)")
            throw ExitCode(4)
        }
        let running = kill(state.pid, 0) == 0 || errno == EPERM
        if format == .json {
            // The strict reader accepted these bytes, so they hold no raw control character.
            StandardStreams.write(bytes)
        } else {
            StandardStreams.write(Self.render(state, running: running))
        }
        if !running { throw ExitCode(3) }
    }

    static func render(_ state: StateFile, running: Bool) -> String {
        var lines = [
            running
                ? "iommu-watch daemon (pid \(state.pid)) running since \(state.started); last rescan \(state.updated), \(state.rescans) rescans."
                : "iommu-watch daemon is not running (pid \(state.pid) is gone); this state is from \(state.updated)."
        ]
        lines.append(
            "Root \(state.root), kernel \(state.kernel ?? "unknown"), configuration \(state.configFiles.isEmpty ? "built-in defaults" : state.configFiles.joined(separator: ", "))."
        )
        lines.append(
            state.hasIOMMUGroups
                ? "\(state.groups.count) IOMMU groups, \(state.pciDevices) PCI devices."
                : "No IOMMU groups: the IOMMU is absent or disabled. \(state.pciDevices) PCI devices.")
        if let posture = state.posture {
            lines.append("Posture: \(posture.line) — \(posture.decidedBy)\(posture.asPredicted ? "" : " (not what the rules predict)").")
        }
        for group in state.groups {
            let members = group.members.map { member in group.drivers[member].map { "\(member) (\($0))" } ?? member }
            lines.append("  group \(group.id)  \(group.type ?? "-")  \(members.joined(separator: ", "))")
        }
        let shown = state.divergences.filter { !$0.hidden }
        lines.append(shown.isEmpty ? "No divergences." : "\(shown.count) divergences:")
        for entry in shown {
            lines.append("  \(entry.severity)  \(entry.name)  \(entry.message) (since \(entry.since))")
        }
        let hidden = state.divergences.count - shown.count
        if hidden > 0 { lines.append("\(hidden) more hidden by MinimumSeverity= or suppressions.") }
        if !state.unverified.isEmpty {
            lines.append("Not verified (\(state.unverified.count)): data the rules need could not be read:")
            for question in state.unverified { lines.append("  " + question) }
        }
        for problem in state.readErrors { lines.append("Cannot read \(problem.path): \(problem.message).") }
        return TerminalText.lines(lines)
    }
}
