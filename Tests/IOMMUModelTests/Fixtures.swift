import Foundation
import IOMMUSnapshot

/// The real captures under Tests/Fixtures, and edited copies of them for planted cases.
enum Fixtures {
    /// The package root: the first folder above this file that holds Package.swift.
    static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url
    }()

    static let folder = packageRoot.appendingPathComponent("Tests/Fixtures")

    /// Every capture: a folder with `sys/` and `proc/`, found anew each run so new captures are covered.
    static let all: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0 + "/sys").path) }.sorted()
    }()

    static func read(_ name: String) throws -> Snapshot {
        try SnapshotReader.read(root: folder.appendingPathComponent(name).path)
    }

    /// Copies a capture into a temporary folder (links stay links), lets `edit` change files there,
    /// reads the copy and removes it.
    static func planted(from name: String, _ edit: (URL) throws -> Void) throws -> Snapshot {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("iommu-watch-model-\(UUID().uuidString)")
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
