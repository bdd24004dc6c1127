import Foundation
import IOMMUSnapshot
import TestSupport
import Testing

@testable import IOMMUModel

/// Which IOMMU the firmware (IORT, VIOT, device tree) puts each PCI function behind
/// (docs/kernel-rules.md#a2), judged by the kernel's own groups on the ARM64 captures.
@Suite struct FirmwareRouteTests {
    static let armCaptures = FixtureFiles.armCaptures

    /// Every function the kernel grouped is one the firmware routes to an IOMMU of the registered
    /// unit's kind; the functions it routes nowhere have no group.
    @Test(arguments: armCaptures) func theKernelsGroupsFollowTheFirmwaresRoutes(name: String) throws {
        let snapshot = try Captures.snapshot(name)
        let context = ModelContext(snapshot)
        #expect(context.routes.source != nil, "\(name): the tables in the capture are decodable")
        let family = try #require(snapshot.iommus.first?.driver)
        for device in snapshot.pciDevices {
            let route = try #require(context.routes.route(domain: device.address.domain, requesterID: device.address.requesterID))
            if device.iommuGroup != nil {
                let iommu = try #require(route.iommu, "\(name): \(device.address) has a group but the firmware routes it nowhere: \(route)")
                #expect(
                    iommu.name.contains(family == .virtio ? "virtio" : "smmu") || iommu.name.contains("SMMUv3"), "\(name): \(iommu.name)")
            }
            if case .bypass = route { #expect(device.iommuGroup == nil, "\(name): \(device.address) is grouped though routed nowhere") }
        }
    }

    /// QEMU's IORT sends requester IDs 0x0000–0x0300 to the SMMU and 0x0300–0xffff to the ITS: the
    /// table counts IDs, not IDs minus one. The kernel lets the second range take 0x0300.
    @Test func aRangesLastIDGoesToTheNextRangeThatStartsThere() throws {
        let snapshot = try Captures.snapshot("qemu-7-arm-smmuv3-acpi-default-2g-c")
        let routes = ModelContext(snapshot).routes
        #expect(routes.route(domain: 0, requesterID: 0x02ff)?.iommu?.name == "the SMMUv3 at 0x9050000")
        guard case .bypass(let why) = routes.route(domain: 0, requesterID: 0x0300) else {
            Issue.record("0x0300 should reach the ITS only")
            return
        }
        #expect(why.contains("ITS group"))
        guard case .translated(_, let streamID) = routes.route(domain: 0, requesterID: 0x0208) else {
            Issue.record("0x0208 should be translated")
            return
        }
        #expect(streamID == 0x0208)
    }

    /// A last-ID match with no later range starting there still counts (the only mapping that holds it).
    @Test func aLastIDMatchStandsWhenNothingSupersedesIt() {
        let root = node(0x30, .rootComplex(segment: 0), [mapping(0x100, count: 0xff, to: 0x60)])
        let smmu = node(0x60, .smmuV3(base: 0x1000), [])
        let table = IORTTable(nodes: [root, smmu])
        #expect(FirmwareRoutes.iortRoute(table, domain: 0, requesterID: 0x1ff).iommu != nil)
        #expect(FirmwareRoutes.iortRoute(table, domain: 0, requesterID: 0x200).iommu == nil)
        #expect(FirmwareRoutes.iortRoute(table, domain: 1, requesterID: 0x150).iommu == nil)
    }

    /// Root complex → named-component-free chain → SMMU, and a hostile loop that never reaches one.
    @Test func mappingsAreFollowedAcrossNodesButNotForever() {
        let chained = IORTTable(nodes: [
            node(0x30, .rootComplex(segment: 0), [mapping(0, count: 0xffff, to: 0x60, output: 0x10000)]),
            node(0x60, .other, [mapping(0x10000, count: 0xffff, to: 0x90)]),
            node(0x90, .smmu(base: 0x2000), []),
        ])
        guard case .translated(let iommu, let id) = FirmwareRoutes.iortRoute(chained, domain: 0, requesterID: 0x42) else {
            Issue.record("the chain should reach the SMMU")
            return
        }
        #expect(iommu.name == "the SMMU at 0x2000")
        #expect(id == 0x10042)
        let loop = IORTTable(nodes: [
            node(0x30, .rootComplex(segment: 0), [mapping(0, count: 0xffff, to: 0x60)]),
            node(0x60, .other, [mapping(0, count: 0xffff, to: 0x60)]),
        ])
        #expect(FirmwareRoutes.iortRoute(loop, domain: 0, requesterID: 1).iommu == nil)
    }

    /// `single mapping` sends every ID of a root complex to one output; on an SMMU node it is skipped.
    @Test func aSingleMappingIgnoresTheInputID() {
        let table = IORTTable(nodes: [
            node(
                0x30, .rootComplex(segment: 0),
                [IORTTable.IDMapping(inputBase: 0, idCount: 0, outputBase: 7, outputReference: 0x60, flags: 1)]),
            node(0x60, .smmuV3(base: 0x1000), []),
        ])
        guard case .translated(_, let id) = FirmwareRoutes.iortRoute(table, domain: 0, requesterID: 0x1234) else {
            Issue.record("a single mapping maps every ID")
            return
        }
        #expect(id == 7)
    }

    /// The virtio-iommu does not translate for itself; the functions of the VIOT's range do, with
    /// endpoint IDs counted from the range's start.
    @Test func theVIOTRoutesItsRangeButNotTheIOMMUItself() throws {
        let snapshot = try Captures.snapshot("qemu-7-arm-virtio-iommu-acpi-default-2g-c")
        let routes = ModelContext(snapshot).routes
        guard case .translated(let iommu, let endpoint) = routes.route(domain: 0, requesterID: 0x0208) else {
            Issue.record("02:01.0 is in the VIOT's range")
            return
        }
        #expect(iommu.name == "the virtio-iommu at 0000:00:07.0")
        #expect(endpoint == 0x0208)
        #expect(routes.route(domain: 0, requesterID: 0x0038)?.iommu == nil)
        #expect(routes.route(domain: 0, requesterID: 0x0300)?.iommu == nil)
    }

    /// `iommu-map-mask` is applied before the lookup, and an ID outside every entry has no IOMMU.
    @Test func theDeviceTreeMapHonoursItsMask() {
        let smmu = DeviceTreeIOMMUs.IOMMUNode(path: "smmu@1000", phandle: 5, compatible: ["arm,smmu-v3"])
        let entry = DeviceTreeIOMMUs.IOMMUMapEntry(ridBase: 0, phandle: 5, iommuBase: 0x100, length: 0x8)
        var tree = DeviceTreeIOMMUs(
            iommus: [smmu], pciHosts: [DeviceTreeIOMMUs.PCIHost(path: "pcie@0", domain: nil, iommuMap: [entry], iommuMapMask: 0x7)])
        guard case .translated(_, let id) = FirmwareRoutes.deviceTreeRoute(tree, domain: 0, requesterID: 0x0103) else {
            Issue.record("masked to 3, inside the entry")
            return
        }
        #expect(id == 0x103)
        tree.pciHosts[0].iommuMapMask = nil
        #expect(FirmwareRoutes.deviceTreeRoute(tree, domain: 0, requesterID: 0x0103)?.iommu == nil)
        #expect(FirmwareRoutes.deviceTreeRoute(tree, domain: 1, requesterID: 0x0003) == nil, "no host bridge for domain 1: unknown")
    }

    /// An IORT that exists but cannot be read leaves every route unknown, not "no IOMMU".
    @Test func anUnreadableTableKnowsNothing() throws {
        var snapshot = try Captures.snapshot("qemu-7-arm-smmuv3-acpi-default-2g-c")
        snapshot.firmware.iort = FirmwareTable(bytes: nil)
        #expect(ModelContext(snapshot).routes.route(domain: 0, requesterID: 0x0208) == nil)
        snapshot.firmware.iort = FirmwareTable(bytes: Array("IORT".utf8))
        let context = ModelContext(snapshot)
        #expect(context.routes.route(domain: 0, requesterID: 0x0208) == nil)
        #expect(context.firmwareProblems.contains { $0.table == .iort })
    }

    func node(_ offset: UInt32, _ kind: IORTTable.Kind, _ mappings: [IORTTable.IDMapping]) -> IORTTable.Node {
        IORTTable.Node(offset: offset, kind: kind, rawType: 0, revision: 0, mappings: mappings)
    }

    func mapping(_ base: UInt32, count: UInt32, to reference: UInt32, output: UInt32? = nil) -> IORTTable.IDMapping {
        IORTTable.IDMapping(inputBase: base, idCount: count, outputBase: output ?? base, outputReference: reference, flags: 0)
    }
}
