import Foundation
import IOMMUSnapshot
import TestSupport

/// The real captures under Tests/Fixtures, read as snapshots. Model tests that need a variation edit
/// the typed snapshot (the model only ever sees values); file-level planted copies live in ReconcileTests.
enum Captures {
    static let root = FixtureFiles.folder

    /// Every capture (`FixtureFiles.captures`).
    static let names = FixtureFiles.captures

    static func snapshot(_ name: String) throws -> Snapshot { try SnapshotReader.read(root: FixtureFiles.root(name)) }

    /// The capture's `manifest.json` records a `type` write the kernel accepted
    /// (`unbound, write identity: echo identity > 1/type -> rc=0; …`): its types are not the kernel's choice.
    static func typeWasWritten(_ name: String) -> Bool {
        let url = root.appendingPathComponent(name + "/manifest.json")
        guard let data = try? Data(contentsOf: url),
            let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return false }
        return (manifest["typeWrites"] as? [String] ?? []).contains { $0.contains(" write ") && $0.contains("-> rc=0") }
    }
}
