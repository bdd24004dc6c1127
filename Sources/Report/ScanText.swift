import IOMMUSnapshot
import Reconcile

/// The `scan` text a person reads: a block per group, then divergences, then what could not be read.
public enum ScanText {
    public static func render(_ snapshot: Snapshot, divergences: [Divergence]) -> String {
        var out = ""
        out += header(snapshot)
        if snapshot.groups.isEmpty {
            out += "\n" + wrap(IOMMUAbsence.explanation(for: snapshot)) + "\n"
        } else {
            let devices = Dictionary(snapshot.pciDevices.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
            let memberCount = snapshot.groups.reduce(0) { $0 + $1.members.count }
            out += "\(snapshot.groups.count) IOMMU groups, \(memberCount) devices\n"
            for group in snapshot.groups { out += "\n" + block(group, devices: devices) }
        }
        out += "\n"
        if divergences.isEmpty {
            out += "No divergences: what the kernel shows is what its rules predict.\n"
        } else {
            out += "Divergences (\(divergences.count)):\n"
            for divergence in divergences {
                out += "  \(divergence.severity.rawValue.padded(to: 7)) \(divergence.kind.name): \(divergence.message)\n"
            }
            out += "Run `iommu-watch explain NAME` for what each means and what to do.\n"
        }
        if !snapshot.errors.isEmpty {
            out += "\nCould not read (\(snapshot.errors.count)):\n"
            for error in snapshot.errors { out += "  \(error.path): \(error.message)\n" }
        }
        return out
    }

    static func header(_ snapshot: Snapshot) -> String {
        var parts = ["Linux " + (snapshot.kernel.release ?? "(release unknown)")]
        if !snapshot.iommus.isEmpty {
            parts.append("IOMMU " + snapshot.iommus.map { "\($0.name) (\($0.driver.name))" }.joined(separator: ", "))
        }
        var line = parts.joined(separator: ", ") + "\n"
        if let cmdline = snapshot.kernel.commandLine?.raw { line += "cmdline: " + cmdline + "\n" }
        return line
    }

    static func block(_ group: IOMMUGroup, devices: [PCIAddress: PCIDevice]) -> String {
        var out = "Group \(group.id)"
        switch group.type {
        case .absent: out += "  (no type file: kernel older than 4.15)"
        case .value(let type, _): out += "  " + type.rawValue
        }
        if let name = group.name { out += "  name " + name }
        out += "\n"
        for (index, region) in group.reservedRegions.enumerated() {
            out += (index == 0 ? "  reserved " : "           ") + region.kernelLine + "\n"
        }
        for member in group.members {
            guard let address = member.pciAddress, let device = devices[address] else {
                out += "  \(member.name)  (\(member.bus) device)\n"
                continue
            }
            let ids = (device.vendorID.map { hex(UInt64($0), width: 4) } ?? "????") + ":" + (device.deviceID.map { hex(UInt64($0), width: 4) } ?? "????")
            let className = device.classCode.map(PCIClassName.name(of:)) ?? "unknown class"
            out += "  \(member.name)  \(ids)  \(className.padded(to: 32)) \(device.driver ?? "(no driver)")\n"
        }
        return out
    }

    /// Wraps prose at 100 columns.
    static func wrap(_ text: String, width: Int = 100) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
