import Foundation
import IOMMUSnapshot
import Reconcile
import TestSupport
import Testing

@testable import Report

/// `diff --format json` (docs/json.md): a device that came or went is named in `devices`, not dressed
/// up as a group.
@Suite struct ComparisonReportTests {
    static func side(_ name: String) throws -> SnapshotComparison.Side {
        let snapshot = try SnapshotReader.read(root: FixtureFiles.root(name))
        return SnapshotComparison.Side(snapshot: snapshot, found: Reconciler.reconcile(snapshot))
    }

    @Test func anAddedDeviceIsNamedInDevices() throws {
        let comparison = SnapshotComparison(try Self.side("qemu-7-intel-default-2g-b"), try Self.side("qemu-7-intel-hotplug-2g-b-added"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(ComparisonReport.json(comparison))) as? [String: Any])
        let groups = try #require(json["groups"] as? [[String: Any]])
        let added = try #require(groups.first { $0["change"] as? String == "devices-added" })
        #expect(added["devices"] as? [String] == ["0000:08:00.0"])
        #expect((added["from"] as? [Any])?.isEmpty == true && (added["to"] as? [Any])?.isEmpty == true)
        for group in groups where group["change"] as? String != "devices-added" {
            #expect((group["devices"] as? [String])?.isEmpty == true)
        }
    }
}
