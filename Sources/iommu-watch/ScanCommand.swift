import ArgumentParser
#if canImport(Glibc)
    import Glibc
#endif
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

    @Option(help: "Colour in text output: auto (a terminal, NO_COLOR unset, TERM not dumb), always or never.")
    var color: ColourChoice = .auto

    @Option(help: ArgumentHelp("Show only this IOMMU group (repeatable), and only its divergences.", valueName: "N"))
    var group: [Int] = []

    @Option(help: ArgumentHelp("Show only the group holding this PCI function (00:1f.2 or 0000:00:1f.2; repeatable).", valueName: "slot"))
    var slot: [String] = []

    /// Usage errors, an unknown group or slot included, exit 64 with scan's usage.
    func run() throws {
        do {
            try scan()
        } catch let error as ValidationError {
            Self.exit(withError: error)
        }
    }

    func scan() throws {
        let slots = try slot.map(SlotArgument.parse)
        let snapshot = try root.readSnapshot()
        var found = Reconciler.reconcile(snapshot)
        var shown = snapshot
        if !group.isEmpty || !slots.isEmpty {
            let wanted = Set(group).union(snapshot.groups.filter { !Set($0.pciMembers).isDisjoint(with: slots) }.map(\.id))
            for id in group where !snapshot.groups.contains(where: { $0.id == id }) {
                throw ValidationError("this root has no IOMMU group \(id)")
            }
            for address in slots where !snapshot.pciDevices.contains(where: { $0.address == address }) {
                throw ValidationError("\(address) is not a PCI function of this root")
            }
            shown.groups = snapshot.groups.filter { wanted.contains($0.id) }
            found.divergences = found.divergences.filter { divergence in
                divergence.group.map(wanted.contains) ?? false || divergence.slot.map(slots.contains) ?? false
            }
            found.unverified = found.unverified.filter { $0.group.map(wanted.contains) ?? false }
        }
        let names = Self.names(for: shown, root: root.root)
        switch format {
        case .json: StandardStreams.write(ScanJSON.render(shown, found, names: names))
        case .text:
            let text = ScanText.render(shown, found, names: names)
            StandardStreams.write(color.isOn ? TerminalColour.apply(text) : text)
        }
        if found.divergences.contains(where: { $0.severity >= failOn }) { throw ExitStatus.divergent }
    }
}

extension Scan {
    /// Names from the PCI ID database under the root, else on this host; ids only when there is none.
    /// A database that exists but cannot be used is said on stderr, once.
    static func names(for snapshot: Snapshot, root: String) -> PCINames? {
        let wanted = Set(
            snapshot.pciDevices.compactMap { device in
                device.vendorID.flatMap { vendor in device.deviceID.map { PCIIDs(vendor: vendor, device: $0) } }
            })
        guard !wanted.isEmpty else { return nil }
        let loaded = PCIIDDatabase.load(root: root, wanted: wanted)
        for problem in loaded.problems { StandardStreams.error("PCI ID database not used: \(problem.path): \(problem.message)") }
        return loaded.names
    }
}

extension Severity: ExpressibleByArgument {}

/// `--color`.
enum ColourChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never

    var isOn: Bool {
        switch self {
        case .always: true
        case .never: false
        case .auto:
            TerminalColour.wanted(
                isTerminal: isatty(STDOUT_FILENO) == 1,
                environment: ["NO_COLOR", "TERM"].reduce(into: [:]) { found, name in found[name] = getenv(name).map { String(cString: $0) }
                })
        }
    }
}
