import Foundation
import IOMMUModel
import IOMMUSnapshot
import Testing

/// On every real capture the model must reproduce what the kernel shows: the same partition of devices
/// into groups, the same type per group and the same reserved-region lines. A capture whose type was
/// changed after boot cannot be one of these: its manifest records the write, and its types are skipped.
@Suite struct RealCaptureTests {
    @Test(arguments: Captures.names)
    func predictedGroupsEqualObserved(_ name: String) throws {
        let snapshot = try Captures.snapshot(name)
        let prediction = Model.predict(snapshot)
        let observed = Set(snapshot.groups.map { Set($0.pciMembers) }.filter { !$0.isEmpty })
        let predicted = Set(prediction.groups.map { Set($0.members) })
        #expect(predicted == observed, "\(name): partition differs")
    }

    @Test(arguments: Captures.names)
    func predictedTypesEqualObserved(_ name: String) throws {
        guard !Captures.typeWasWritten(name) else { return }
        let snapshot = try Captures.snapshot(name)
        let prediction = Model.predict(snapshot)
        for group in snapshot.groups where !group.pciMembers.isEmpty {
            guard let predicted = prediction.group(containing: group.pciMembers[0]) else {
                Issue.record("\(name): group \(group.id) has no predicted counterpart")
                continue
            }
            #expect(
                predicted.typeDecision.type == group.type.domainType, "\(name) group \(group.id): \(predicted.typeDecision.rule.sentence)")
        }
    }

    /// The captures carry no `boot/`, so the tests above run on the distribution default. Debian's own
    /// build configuration of the same release (Tests/Fixtures/kernel-configs) must give the same types.
    @Test(arguments: Captures.names)
    func predictedTypesEqualObservedUnderTheKernelsOwnBuildConfig(_ name: String) throws {
        guard !Captures.typeWasWritten(name) else { return }
        var snapshot = try Captures.snapshot(name)
        guard let release = snapshot.kernel.release,
            let bytes = try? Data(contentsOf: Captures.root.appendingPathComponent("kernel-configs/config-" + release))
        else { return }
        snapshot.kernelConfig = try KernelConfigParser.parse(Array(bytes))
        let prediction = Model.predict(snapshot)
        for group in snapshot.groups where !group.pciMembers.isEmpty {
            let predicted = prediction.group(containing: group.pciMembers[0])
            #expect(predicted?.typeDecision.type == group.type.domainType, "\(name) (\(release)'s config) group \(group.id)")
        }
    }

    @Test(arguments: Captures.names)
    func predictedRegionsEqualObserved(_ name: String) throws {
        let snapshot = try Captures.snapshot(name)
        let prediction = Model.predict(snapshot)
        // virtio-iommu's regions come from the device, which sysfs does not show: not predicted.
        for group in snapshot.groups where !group.pciMembers.isEmpty && prediction.context.regionsPredictable(for: group.pciMembers[0]) {
            let predicted = prediction.group(containing: group.pciMembers[0])?.regions.map(\.region.kernelLine) ?? []
            #expect(predicted == group.reservedRegions.map(\.kernelLine), "\(name) group \(group.id)")
        }
    }
}
