import Foundation
import IOMMUModel
import IOMMUSnapshot
import Reconcile
import Testing

/// IORT RMR ranges (docs/kernel-rules.md#a1): predicted for the PCI functions whose StreamIDs an RMR
/// node maps on their SMMU, from 6.0, and accepted present or absent, since a PCI device gets them
/// only when its host bridge preserves its boot configuration, which sysfs does not show.
@Suite struct IORTReservedMemoryTests {
    static let capture = "qemu-7-arm-smmuv3-acpi-default-2g-c"
    static let base: UInt64 = 0x8_8000_0000
    static let length: UInt64 = 0x10000

    /// The capture's IORT with one RMR node appended: StreamID `streamID` on the SMMUv3 (node offset
    /// 0x48) keeps `base…base + length - 1`.
    static func withRMR(streamID: UInt32, remappingPermitted: Bool = false) throws -> Snapshot {
        var snapshot = try Fixtures.read(capture)
        var bytes = try #require(snapshot.firmware.iort?.bytes)
        func le(_ value: UInt64, _ count: Int) -> [UInt8] { (0..<count).map { UInt8((value >> (8 * UInt64($0))) & 0xff) } }
        let mapping = le(UInt64(streamID), 4) + le(0, 4) + le(UInt64(streamID), 4) + le(0x48, 4) + le(0, 4)
        let descriptor = le(base, 8) + le(length, 8) + le(0, 4)
        let node =
            [6] + le(68, 2) + [3] + le(9, 4) + le(1, 4) + le(28, 4)
            + le(remappingPermitted ? 1 : 0, 4) + le(1, 4) + le(48, 4) + mapping + descriptor
        bytes += node
        bytes.replaceSubrange(36..<40, with: le(UInt64(bytes[36]) + 1, 4))
        bytes.replaceSubrange(4..<8, with: le(UInt64(bytes.count), 4))
        snapshot.firmware.iort = FirmwareTable(bytes: bytes)
        return snapshot
    }

    static func group(of slot: String, in snapshot: Snapshot) throws -> IOMMUGroup {
        let address = try #require(PCIAddress(slot))
        let id = try #require(snapshot.device(address)?.iommuGroup)
        return try #require(snapshot.groups.first { $0.id == id })
    }

    @Test func anRMRForAFunctionsStreamIDIsPredictedForItsGroup() throws {
        let snapshot = try Self.withRMR(streamID: 0x0208)
        let context = ModelContext(snapshot)
        let members = try Self.group(of: "0000:02:01.0", in: snapshot).pciMembers
        let line = ReservedRegion(start: Self.base, end: Self.base + Self.length - 1, type: .direct).kernelLine
        #expect(context.regions(for: members).map(\.region.kernelLine).contains(line))
        #expect(!context.regions(for: members, conditional: false).map(\.region.kernelLine).contains(line))
        let other = try Self.group(of: "0000:00:05.0", in: snapshot).pciMembers
        #expect(!context.regions(for: other).map(\.region.kernelLine).contains(line), "00:05.0's StreamID is not in the RMR")
        let relaxable = ModelContext(try Self.withRMR(streamID: 0x0208, remappingPermitted: true))
        #expect(relaxable.regions(for: members).contains { $0.region.type == .directRelaxable })
    }

    /// The RMR region is there or not as the host bridge's firmware decided: neither is a mismatch;
    /// another direct region is.
    @Test func theRMRMayBePresentOrAbsentButNothingElse() throws {
        var snapshot = try Self.withRMR(streamID: 0x0208)
        let id = try Self.group(of: "0000:02:01.0", in: snapshot).id
        let index = try #require(snapshot.groups.firstIndex { $0.id == id })
        func mismatch() -> Bool {
            Reconciler.divergences(in: snapshot).contains { $0.kind == Catalog.reservedRegionMismatch && $0.group == id }
        }
        #expect(!mismatch(), "absent")
        let withRegion =
            snapshot.groups[index].reservedRegions + [ReservedRegion(start: Self.base, end: Self.base + Self.length - 1, type: .direct)]
        snapshot.groups[index].reservedRegions = withRegion.sorted { $0.start < $1.start }
        #expect(!mismatch(), "present")
        snapshot.groups[index].reservedRegions = withRegion.map { region in
            var moved = region
            if region.type == .direct { moved.start += 0x10000; moved.end += 0x10000 }
            return moved
        }.sorted { $0.start < $1.start }
        #expect(mismatch(), "another range")
    }

    /// Before 6.0 the kernel did not turn RMR nodes into reserved regions.
    @Test func before60TheRMRIsNoRegion() throws {
        var snapshot = try Self.withRMR(streamID: 0x0208)
        snapshot.kernel.version = KernelVersion(5, 19)
        let members = try Self.group(of: "0000:02:01.0", in: snapshot).pciMembers
        #expect(!ModelContext(snapshot).regions(for: members).contains { $0.region.type == .direct })
    }
}
