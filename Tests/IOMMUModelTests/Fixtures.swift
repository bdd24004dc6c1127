import Foundation
import IOMMUSnapshot

/// The real captures under Tests/Fixtures, read as snapshots. Model tests that need a variation edit
/// the typed snapshot (the model only ever sees values); file-level planted copies live in ReconcileTests.
enum Captures {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        repeat { url.deleteLastPathComponent() } while url.path != "/" && !FileManager.default.fileExists(atPath: url.path + "/Package.swift")
        return url.appendingPathComponent("Tests/Fixtures")
    }()

    /// Every folder with a `sys/`, listed anew each run so new captures are covered.
    static let names: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [])
        .filter { FileManager.default.fileExists(atPath: root.path + "/" + $0 + "/sys") }.sorted()

    static func snapshot(_ name: String) throws -> Snapshot { try SnapshotReader.read(root: root.path + "/" + name) }
}
