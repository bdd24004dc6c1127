import Foundation
import IOMMUModel
import IOMMUSnapshot
import Reconcile
import TestSupport
import Testing

/// Real machines, from public `lspci -vvnn` reports that carry the kernel's own `IOMMU group:` line
/// for every device (Tests/Fixtures/lspci, converted by tools/lspci-to-sysfs). The kernel's groups
/// are the truth: the model must find the same partition, say why each multi-device group is one, and
/// raise nothing at warning or above on a healthy machine.
@Suite struct RealHardwareTests {
    static let folder = FixtureFiles.folder.appendingPathComponent("lspci")

    static let machines: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { FileManager.default.fileExists(atPath: folder.path + "/" + $0 + "/root/sys") }.sorted()

    static func snapshot(_ machine: String) throws -> Snapshot { try SnapshotReader.read(root: folder.path + "/" + machine + "/root") }

    @Test func thereAreAtLeastFifteenMachines() {
        #expect(Self.machines.count >= 15, "\(Self.machines)")
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

    /// Every group of two or more devices the *kernel* made carries the model's reasons, one per
    /// device that joined, each naming the rule: a group the model did not form has none.
    @Test(arguments: machines)
    func everyMultiDeviceGroupSaysWhy(_ machine: String) throws {
        let snapshot = try Self.snapshot(machine)
        let reasons = Reconciler.reconcile(snapshot).reasons
        for group in snapshot.groups where group.pciMembers.count > 1 {
            let why = reasons[group.id] ?? []
            #expect(why.count == group.pciMembers.count - 1, "\(machine): group \(group.id) \(why)")
            for reason in why {
                let namesRule = [
                    "PCIe-to-PCI bridge", "conventional PCI bridge", "PCI-X-to-PCIe bridge", "does not isolate", "is multifunction",
                    "DMA alias", "requester id",
                ]
                .contains { reason.contains($0) }
                #expect(namesRule, "\(machine): \(reason)")
            }
        }
    }

    @Test(arguments: machines)
    func aHealthyMachineRaisesNothingAtWarningOrAbove(_ machine: String) throws {
        let divergences = Reconciler.divergences(in: try Self.snapshot(machine)).filter { $0.severity >= .warning }
        #expect(divergences.isEmpty, "\(machine): \(divergences.map { "\($0.kind.name): \($0.message)" })")
    }
}
