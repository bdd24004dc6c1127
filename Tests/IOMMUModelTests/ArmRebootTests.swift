import Foundation
import IOMMUSnapshot
import Testing

@testable import IOMMUModel

/// `simulate --kernel` on Arm hosts re-derives group membership across the releases that change it
/// (docs/kernel-rules.md#a1): judged by booting the same QEMU machine under both releases, the
/// captures of one being simulated into the other.
@Suite struct ArmRebootTests {
    static func partition(_ snapshot: Snapshot) -> Set<Set<PCIAddress>> {
        Set(snapshot.groups.map { Set($0.pciMembers) }.filter { !$0.isEmpty })
    }

    /// `from` booted with `to`'s release, with `to`'s drivers bound (the model only sees values), must
    /// group as `to` did.
    static func simulated(_ from: String, as to: String) throws -> (simulated: Snapshot, observed: Snapshot, notes: [String]) {
        var before = try Captures.snapshot(from)
        let after = try Captures.snapshot(to)
        for index in before.pciDevices.indices {
            before.pciDevices[index].driver = after.device(before.pciDevices[index].address)?.driver
        }
        let (simulated, notes) = Overrides(kernelRelease: try #require(after.kernel.release)).apply(to: before)
        return (simulated, after, notes)
    }

    /// 6.1 groups only driver-bound functions, 7.2 every function when the SMMU registers; the function
    /// that shares a StreamID behind the PCIe-to-PCI bridge stays out either way.
    @Test(arguments: [
        ("qemu-6.1-arm-smmuv3-acpi-default-nonedrivers-2g-c", "qemu-7-arm-smmuv3-acpi-default-nonedrivers-2g-c"),
        ("qemu-7-arm-smmuv3-acpi-default-nonedrivers-2g-c", "qemu-6.1-arm-smmuv3-acpi-default-nonedrivers-2g-c"),
    ])
    func groupingAtRegistrationIsNotCarriedAcross615(from: String, to: String) throws {
        let (simulated, observed, notes) = try Self.simulated(from, as: to)
        #expect(Self.partition(simulated) == Self.partition(observed), "\(notes)")
        #expect(notes.contains { $0.contains("group membership re-derived") })
        for device in simulated.pciDevices {
            #expect((device.iommuGroup != nil) == (observed.device(device.address)?.iommuGroup != nil), "\(device.address)")
        }
    }

    /// On a device tree, 6.1 and 6.12 leave ACS off at enumeration (the root port shares a group with
    /// the function below it) and 7.x enables it (they split).
    @Test(arguments: [
        ("qemu-6.12-arm-smmuv3-dt-default-2g-c", "qemu-7-arm-smmuv3-dt-default-2g-c"),
        ("qemu-7-arm-smmuv3-dt-default-2g-c", "qemu-6.12-arm-smmuv3-dt-default-2g-c"),
        ("qemu-6.1-arm-smmuv3-dt-default-2g-c", "qemu-7-arm-smmuv3-dt-default-2g-c"),
        ("qemu-7-arm-smmuv3-dt-default-2g-c", "qemu-6.1-arm-smmuv3-dt-default-2g-c"),
    ])
    func deviceTreeACSTimingIsNotCarriedAcross70(from: String, to: String) throws {
        let (simulated, observed, notes) = try Self.simulated(from, as: to)
        #expect(Self.partition(simulated) == Self.partition(observed), "\(notes)")
        #expect(notes.contains { $0.contains("ACS on the device tree") })
        let rootPort = try #require(PCIAddress("0000:00:01.0"))
        #expect(simulated.device(rootPort)?.config?.acs?.control == observed.device(rootPort)?.config?.acs?.control)
    }

    /// Under ACPI the IORT requests ACS before enumeration on every release: only the 6.15 rule moves
    /// membership, and the root port stays split from its device.
    @Test func underACPIOnlyThe615RuleMovesMembership() throws {
        let (simulated, _, notes) = try Self.simulated(
            "qemu-6.12-arm-smmuv3-acpi-default-2g-c", as: "qemu-7-arm-smmuv3-acpi-default-2g-c")
        #expect(!notes.contains { $0.contains("ACS on the device tree") })
        let rootPort = try #require(PCIAddress("0000:00:01.0")), below = try #require(PCIAddress("0000:01:00.0"))
        #expect(simulated.device(rootPort)?.iommuGroup != simulated.device(below)?.iommuGroup)
    }

    /// Within one side of both boundaries the observed membership stands, and the group numbers too.
    @Test func betweenReleasesOfOneRuleMembershipIsKept() throws {
        let before = try Captures.snapshot("qemu-6.12-arm-smmuv3-dt-default-2g-c")
        let (simulated, notes) = Overrides(kernelRelease: "6.14.0-1-arm64").apply(to: before)
        #expect(!notes.contains { $0.contains("membership") })
        #expect(simulated.groups.map(\.id) == before.groups.map(\.id))
        #expect(Self.partition(simulated) == Self.partition(before))
    }

    /// 6.15–6.19 on a device tree: the first function scanned (here the host bridge, which has no
    /// ACS) misses ACS; the root port gets it, so it splits from its device as on 7.x.
    @Test func between615And619OnlyTheFirstFunctionMissesACS() throws {
        let before = try Captures.snapshot("qemu-6.12-arm-smmuv3-dt-default-2g-c")
        let (simulated, _) = Overrides(kernelRelease: "6.16.0-1-arm64").apply(to: before)
        let rootPort = try #require(PCIAddress("0000:00:01.0")), below = try #require(PCIAddress("0000:01:00.0"))
        #expect(simulated.device(rootPort)?.config?.acs?.control == 0x1d)
        #expect(simulated.device(rootPort)?.iommuGroup != simulated.device(below)?.iommuGroup)
    }

    /// Unknown routes (an IORT only root can read): the membership is kept and the note says why.
    @Test func unknownRoutesKeepTheObservedMembership() throws {
        var before = try Captures.snapshot("qemu-6.1-arm-smmuv3-acpi-default-nonedrivers-2g-c")
        before.firmware.iort = FirmwareTable(bytes: nil)
        let (simulated, notes) = Overrides(kernelRelease: "7.2.0-1-arm64").apply(to: before)
        #expect(Self.partition(simulated) == Self.partition(before))
        #expect(notes.contains { $0.contains("kept as observed") })
    }
}
