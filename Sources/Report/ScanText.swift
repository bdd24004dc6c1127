import IOMMUModel
import IOMMUSnapshot
import Reconcile

/// The `scan` text a person reads: a block per group, then divergences, then what could not be read.
public enum ScanText {
    /// `names`: the PCI ID database's names for the devices, printed after each device's line.
    public static func render(_ snapshot: Snapshot, _ found: Reconciliation, names: PCINames? = nil) -> String {
        TerminalText.lines(lines(snapshot, found, names: names))
    }

    /// Divergences alone, as a reconciliation that found nothing else.
    public static func render(_ snapshot: Snapshot, divergences: [Divergence]) -> String {
        render(snapshot, Reconciliation(divergences: divergences))
    }

    /// The output as lines, before `TerminalText` makes each one safe for a terminal.
    static func lines(_ snapshot: Snapshot, _ found: Reconciliation, names: PCINames? = nil) -> [String] {
        let (divergences, unverified) = (found.divergences, found.unverified)
        var lines = header(snapshot)
        if let posture = found.posture { lines += PostureReport.lines(posture) }
        if snapshot.groups.isEmpty {
            lines.append("")
            lines += WordWrap.lines(IOMMUAbsence.explanation(for: snapshot, translation: found.translation), width: 100)
        } else {
            let devices = Dictionary(snapshot.pciDevices.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
            let memberCount = snapshot.groups.reduce(0) { $0 + $1.members.count }
            lines.append("\(snapshot.groups.count) IOMMU groups, \(memberCount) devices")
            for group in snapshot.groups {
                lines.append("")
                lines += block(
                    group, devices: devices, reasons: found.reasons[group.id] ?? [], kernel: snapshot.kernel.version, names: names)
                if let readiness = found.vfio[group.id] { lines += VFIOReadinessText.lines(readiness) }
            }
        }
        lines.append("")
        if !unverified.isEmpty {
            lines.append(
                "Not verified (\(unverified.count)): data the rules need could not be read, so these are neither divergences nor known good:"
            )
            for item in unverified { lines.append("  " + item.sentence) }
            lines.append("")
        }
        if divergences.isEmpty {
            lines.append(
                unverified.isEmpty && snapshot.errors.isEmpty
                    ? "No divergences: what the kernel shows is what its rules predict."
                    : "No divergences in what could be checked; \(uncheckedSummary(unverified, snapshot)) could not be checked (see above and below)."
            )
        } else {
            lines.append("Divergences (\(divergences.count)):")
            for divergence in divergences {
                lines.append("  \(divergence.severity.rawValue.padded(to: 7)) \(divergence.kind.name): \(divergence.message)")
            }
            lines.append("Run `iommu-watch explain NAME` for what each means and what to do.")
        }
        if !snapshot.errors.isEmpty {
            lines.append("")
            lines.append("Could not read (\(snapshot.errors.count)):")
            for error in snapshot.errors { lines.append("  \(error.path): \(error.message)") }
        }
        return lines
    }

    /// "2 groups and 5 files": what the last line says was left unchecked.
    static func uncheckedSummary(_ unverified: [Unverified], _ snapshot: Snapshot) -> String {
        var parts: [String] = []
        if !unverified.isEmpty { parts.append("\(unverified.count) \(unverified.count == 1 ? "question" : "questions") about groups") }
        if !snapshot.errors.isEmpty { parts.append("\(snapshot.errors.count) unreadable \(snapshot.errors.count == 1 ? "file" : "files")") }
        return parts.joined(separator: " and ")
    }

    static func header(_ snapshot: Snapshot) -> [String] {
        var parts = ["Linux " + (snapshot.kernel.release ?? "(release unknown)")]
        if !snapshot.iommus.isEmpty {
            parts.append("IOMMU " + snapshot.iommus.map { "\($0.name) (\($0.driver.name))" }.joined(separator: ", "))
        }
        var lines = [parts.joined(separator: ", ")]
        if let cmdline = snapshot.kernel.commandLine?.raw { lines.append("cmdline: " + cmdline) }
        return lines
    }

    static func block(
        _ group: IOMMUGroup, devices: [PCIAddress: PCIDevice], reasons: [String] = [], kernel: KernelVersion? = nil, names: PCINames? = nil
    ) -> [String] {
        var title = "Group \(group.id)"
        switch group.type {
        case .absent where kernel.map { $0 >= KernelVersion(4, 15) } ?? false:
            title += "  (no type file, although this kernel writes one: the root lacks it)"
        case .absent: title += "  (no type file: kernel older than 4.15)"
        case .value(let type, _): title += "  " + type.rawValue
        }
        if let name = group.name { title += "  name " + name }
        var lines = [title]
        for (index, region) in group.reservedRegions.enumerated() {
            lines.append((index == 0 ? "  reserved " : "           ") + region.kernelLine)
        }
        for member in group.members {
            guard let address = member.pciAddress, let device = devices[address] else {
                lines.append("  \(member.name)  (\(member.bus) device)")
                continue
            }
            let ids =
                (device.vendorID.map { Hex.string(UInt64($0), width: 4) } ?? "????") + ":"
                + (device.deviceID.map { Hex.string(UInt64($0), width: 4) } ?? "????")
            let className = device.classCode.map(PCIClassName.name(of:)) ?? "unknown class"
            var line = "  \(member.name)  \(ids)  \(className.padded(to: 32)) \(device.driver ?? "(no driver)")"
            if let vendor = device.vendorID, let id = device.deviceID, let name = names?.name(vendor: vendor, device: id) {
                line = line.padded(to: 72) + "  " + name
            }
            lines.append(line)
        }
        for reason in reasons { lines.append("  why: " + reason) }
        return lines
    }
}

extension String {
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
