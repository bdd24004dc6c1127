import IOMMUSnapshot
import Reconcile

/// The `scan` text a person reads: a block per group, then divergences, then what could not be read.
public enum ScanText {
    public static func render(_ snapshot: Snapshot, divergences: [Divergence]) -> String {
        TerminalText.lines(lines(snapshot, divergences: divergences))
    }

    /// The output as lines, before `TerminalText` makes each one safe for a terminal.
    static func lines(_ snapshot: Snapshot, divergences: [Divergence]) -> [String] {
        var lines = header(snapshot)
        if snapshot.groups.isEmpty {
            lines.append("")
            lines += WordWrap.lines(IOMMUAbsence.explanation(for: snapshot), width: 100)
        } else {
            let devices = Dictionary(snapshot.pciDevices.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
            let memberCount = snapshot.groups.reduce(0) { $0 + $1.members.count }
            lines.append("\(snapshot.groups.count) IOMMU groups, \(memberCount) devices")
            for group in snapshot.groups {
                lines.append("")
                lines += block(group, devices: devices)
            }
        }
        lines.append("")
        if divergences.isEmpty {
            lines.append("No divergences: what the kernel shows is what its rules predict.")
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

    static func header(_ snapshot: Snapshot) -> [String] {
        var parts = ["Linux " + (snapshot.kernel.release ?? "(release unknown)")]
        if !snapshot.iommus.isEmpty {
            parts.append("IOMMU " + snapshot.iommus.map { "\($0.name) (\($0.driver.name))" }.joined(separator: ", "))
        }
        var lines = [parts.joined(separator: ", ")]
        if let cmdline = snapshot.kernel.commandLine?.raw { lines.append("cmdline: " + cmdline) }
        return lines
    }

    static func block(_ group: IOMMUGroup, devices: [PCIAddress: PCIDevice]) -> [String] {
        var title = "Group \(group.id)"
        switch group.type {
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
            let ids = (device.vendorID.map { Hex.string(UInt64($0), width: 4) } ?? "????") + ":" + (device.deviceID.map { Hex.string(UInt64($0), width: 4) } ?? "????")
            let className = device.classCode.map(PCIClassName.name(of:)) ?? "unknown class"
            lines.append("  \(member.name)  \(ids)  \(className.padded(to: 32)) \(device.driver ?? "(no driver)")")
        }
        return lines
    }
}

extension String {
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
