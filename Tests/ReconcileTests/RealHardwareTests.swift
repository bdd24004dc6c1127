import Foundation
import IOMMUModel
import IOMMUSnapshot
import Reconcile
import Testing

/// Real machines, from public `lspci -vvnn` reports that carry the kernel's own `IOMMU group:` line
/// for every device (Tests/Fixtures/lspci, converted by tools/lspci-to-sysfs). The kernel's groups
/// are the truth: the model must find the same partition, say why each multi-device group is one, and
/// raise nothing at warning or above on a healthy machine.
@Suite struct RealHardwareTests {
    static let folder: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fixtures/lspci")
    }()

    static let machines: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { FileManager.default.fileExists(atPath: folder.path + "/" + $0 + "/root/sys") }.sorted()

    static func snapshot(_ machine: String) throws -> Snapshot { try SnapshotReader.read(root: folder.path + "/" + machine + "/root") }

    @Test func thereAreAtLeastTwelveMachines() {
        #expect(Self.machines.count >= 11, "\(Self.machines)")
    }

    @Test(arguments: machines)
    func predictedPartitionEqualsTheKernels(_ machine: String) throws {
        let snapshot = try Self.snapshot(machine)
        let prediction = Model.predict(snapshot)
        let observed = Set(snapshot.groups.map { Set($0.pciMembers) }.filter { !$0.isEmpty })
        let predicted = Set(prediction.groups.map { Set($0.members) })
        let wrong = predicted.symmetricDifference(observed).map { $0.map(\.description).sorted().joined(separator: "+") }.sorted()
        #expect(predicted == observed, "\(machine): \(wrong)")
    }

    @Test(arguments: machines)
    func everyMultiDeviceGroupSaysWhy(_ machine: String) throws {
        let prediction = Model.predict(try Self.snapshot(machine))
        for group in prediction.groups where group.members.count > 1 {
            #expect(group.merges.count == group.members.count - 1, "\(machine): \(group.key)")
            for merge in group.merges { #expect(!merge.sentence.isEmpty) }
        }
    }

    @Test(arguments: machines)
    func aHealthyMachineRaisesNothingAtWarningOrAbove(_ machine: String) throws {
        let divergences = Reconciler.divergences(in: try Self.snapshot(machine)).filter { $0.severity >= .warning }
        #expect(divergences.isEmpty, "\(machine): \(divergences.map { "\($0.kind.name): \($0.message)" })")
    }
}
