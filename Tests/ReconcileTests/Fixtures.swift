import Foundation
import IOMMUSnapshot
import TestSupport

/// The real captures under Tests/Fixtures, and edited copies of them for planted cases.
enum Fixtures {
    static let folder = FixtureFiles.folder

    /// Every capture (`FixtureFiles.captures`).
    static let all = FixtureFiles.captures

    static func read(_ name: String) throws -> Snapshot {
        try SnapshotReader.read(root: FixtureFiles.root(name))
    }

    /// Copies a capture into a temporary folder (links stay links), lets `edit` change files there,
    /// reads the copy and removes it.
    static func planted(from name: String, _ edit: (URL) throws -> Void) throws -> Snapshot {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("iommu-watch-reconcile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: folder.appendingPathComponent(name), to: copy)
        try edit(copy)
        return try SnapshotReader.read(root: copy.path)
    }

    /// Writes `text` to a root-relative file of a planted copy.
    static func write(_ text: String, to path: String, in root: URL) throws {
        try Data(text.utf8).write(to: root.appendingPathComponent(path))
    }
}

/// Edits of a planted copy that mimic what a person or the kernel would change on a live machine.
enum Plant {
    /// The device's real folder (`sys/devices/...`), root-relative.
    static func deviceFolder(_ slot: String, in root: URL) throws -> String {
        let target = try FileManager.default.destinationOfSymbolicLink(
            atPath: root.appendingPathComponent("sys/bus/pci/devices/" + slot).path)
        return "sys/" + target.split(separator: "/").drop { $0 == ".." }.joined(separator: "/")
    }

    static func link(_ path: String, to target: String, in root: URL) throws {
        let url = root.appendingPathComponent(path)
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: target)
    }

    /// Binds (or with nil unbinds) a driver, as `driver` links look in sysfs.
    static func bind(_ slot: String, to driver: String?, in root: URL) throws {
        let folder = try deviceFolder(slot, in: root)
        let depth = folder.split(separator: "/").count - 1
        let up = String(repeating: "../", count: depth)
        if let driver {
            try link(folder + "/driver", to: up + "bus/pci/drivers/" + driver, in: root)
        } else {
            try? FileManager.default.removeItem(at: root.appendingPathComponent(folder + "/driver"))
        }
    }

    static func setDeviceAttribute(_ slot: String, _ name: String, _ value: String, in root: URL) throws {
        try Fixtures.write(value + "\n", to: try deviceFolder(slot, in: root) + "/" + name, in: root)
    }

    /// Moves a device into group `id` (created with `type` and `regions` when new), as an ACS override
    /// or a kernel quirk would have placed it.
    static func move(_ slot: String, toGroup id: Int, type: String = "DMA-FQ", regions: String? = nil, in root: URL) throws {
        let groups = root.appendingPathComponent("sys/kernel/iommu_groups")
        for group in try FileManager.default.contentsOfDirectory(atPath: groups.path) {
            try? FileManager.default.removeItem(at: groups.appendingPathComponent("\(group)/devices/\(slot)"))
        }
        let folder = groups.appendingPathComponent("\(id)")
        if !FileManager.default.fileExists(atPath: folder.path) {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("devices"), withIntermediateDirectories: true)
            try Data((type + "\n").utf8).write(to: folder.appendingPathComponent("type"))
            try Data((regions ?? "0x00000000fee00000 0x00000000feefffff msi\n").utf8).write(
                to: folder.appendingPathComponent("reserved_regions"))
        }
        let device = try deviceFolder(slot, in: root)
        try link("sys/kernel/iommu_groups/\(id)/devices/\(slot)", to: "../../../../" + device.dropFirst(4), in: root)
        let depth = device.split(separator: "/").count - 1
        try link(device + "/iommu_group", to: String(repeating: "../", count: depth) + "kernel/iommu_groups/\(id)", in: root)
    }
}
