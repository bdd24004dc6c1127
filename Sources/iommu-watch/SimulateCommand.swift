import ArgumentParser
import IOMMUModel
import IOMMUSnapshot
import Reconcile
import Report

/// `iommu-watch simulate`: what-if on the live or a captured snapshot. Applies the overrides as values,
/// runs the model and the reconciler on the result, and prints the divergences that would appear and
/// disappear. Reads only; changes nothing on the machine.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show which divergences would appear or disappear after a change.",
        discussion: """
            --cmdline and --kernel simulate a reboot (types and reserved regions re-derived by the model; on Arm \
            SMMU and virtio-iommu hosts also group membership, where the release changes it: groups at IOMMU \
            registration from 6.15, device-tree ACS from 7.0);
            --unplug, --bind and --set-type then act on the running system in that order. A type write the
            kernel release would refuse is reported and not applied.
            """)

    @OptionGroup var root: RootOption

    @Option(help: "Reboot with this kernel command line, which replaces the whole current one.")
    var cmdline: String?

    @Option(
        name: .customLong("append-cmdline"),
        help: "Reboot with these parameters added to the end of the current (or --cmdline's) command line.")
    var appendCmdline: String?

    @Option(help: "Reboot into this kernel release (e.g. 6.12.0, 5.10.0-32-amd64).")
    var kernel: String?

    @Option(help: "Hot-unplug this PCI function and everything below it (00:1f.2 or 0000:00:1f.2).")
    var unplug: [String] = []

    @Option(help: "Bind SLOT to DRIVER (SLOT=vfio-pci); SLOT= unbinds.")
    var bind: [String] = []

    @Option(name: .customLong("set-type"), help: "Write TYPE (identity, DMA, DMA-FQ, auto) to group GROUP's type (GROUP=TYPE).")
    var setType: [String] = []

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    @Option(
        name: .customLong("fail-on"),
        help: "Lowest severity that, present after the change, makes the exit status 1: error, warning, notice or info.")
    var failOn: Severity = .warning

    /// Usage errors, those found only once the snapshot is read included (an unknown slot or group),
    /// exit 64 with this command's usage, not the top-level one.
    func run() throws {
        do {
            try simulate()
        } catch let error as ValidationError {
            Self.exit(withError: error)
        }
    }

    func simulate() throws {
        var overrides = try parseOverrides()
        let snapshot = try root.readSnapshot()
        try Self.check(overrides, against: snapshot)
        if let appendCmdline {
            let base = cmdline ?? snapshot.kernel.commandLine?.raw ?? ""
            overrides.commandLine = base.isEmpty ? appendCmdline : base + " " + appendCmdline
        }
        let diff = SimulationDiff(snapshot: snapshot, overrides: overrides)
        switch format {
        case .text: StandardStreams.write(SimulationReport.text(diff))
        case .json: StandardStreams.write(SimulationReport.json(diff) + [0x0a])
        }
        let after = diff.appear + diff.changed.map(\.after) + diff.unchanged
        if after.contains(where: { $0.severity >= failOn }) { throw ExitStatus.divergent }
    }

    /// Every slot and group named must exist in the snapshot: a typo must not pass for "nothing changes".
    static func check(_ overrides: Overrides, against snapshot: Snapshot) throws {
        let slots = Set(snapshot.pciDevices.map(\.address))
        for slot in overrides.unplug + overrides.bind.map(\.slot) where !slots.contains(slot) {
            throw ValidationError("\(slot) is not a PCI function of this root (\(slots.count) are)")
        }
        let groups = Set(snapshot.groups.map(\.id))
        for write in overrides.setType where !groups.contains(write.group) {
            throw ValidationError("--set-type: this root has no IOMMU group \(write.group)")
        }
    }

    func parseOverrides() throws -> Overrides {
        if let kernel, KernelVersion(release: kernel) == nil {
            throw ValidationError("--kernel: \(kernel) is not a kernel release (6.12.0, 5.10.0-32-amd64)")
        }
        var overrides = Overrides(commandLine: cmdline, kernelRelease: kernel)
        overrides.unplug = try unplug.map(SlotArgument.parse)
        overrides.bind = try bind.map { text in
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw ValidationError("--bind wants SLOT=DRIVER, got \(text)") }
            return Overrides.Binding(slot: try SlotArgument.parse(String(parts[0])), driver: parts[1].isEmpty ? nil : String(parts[1]))
        }
        overrides.setType = try setType.map { text in
            let parts = text.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let group = Int(parts[0]), group >= 0 else {
                throw ValidationError("--set-type wants GROUP=TYPE, got \(text)")
            }
            if parts[1] == "auto" { return Overrides.TypeWrite(group: group, type: nil) }
            guard let type = DomainType(rawValue: String(parts[1])), [.identity, .dma, .dmaFQ].contains(type) else {
                throw ValidationError("--set-type: the kernel accepts identity, DMA, DMA-FQ or auto, not \(parts[1])")
            }
            return Overrides.TypeWrite(group: group, type: type)
        }
        return overrides
    }
}
