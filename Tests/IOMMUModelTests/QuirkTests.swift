import IOMMUSnapshot
import Testing

@testable import IOMMUModel

/// Every ACS quirk function and DMA-alias quirk of the kernel, each with a real device ID from its
/// table (docs/kernel-rules.md#g4, #g5), on small synthetic topologies.
@Suite struct QuirkTests {
    /// A function at `slot` with the given IDs and PCIe port type (nil: conventional PCI), no ACS
    /// capability, full config space; `below` is the bridge it sits behind.
    static func device(
        _ slot: String, _ vendor: UInt16, _ id: UInt16, _ type: PCIExpressPortType?, multifunction: Bool = false,
        acs: ACSCapability? = nil, below: [String] = []
    ) -> PCIDevice {
        var device = PCIDevice(address: PCIAddress(slot)!, path: "sys/devices/" + slot, upstream: below.map { PCIAddress($0)! })
        device.vendorID = vendor
        device.deviceID = id
        device.config = PCIConfigSpace(
            length: 4096, headerLayout: 0, isMultifunction: multifunction,
            express: type.map { PCIExpressCapability(rawPortType: $0.rawValue) }, acs: acs)
        return device
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var quirk: ACSQuirks.Quirk
        var device: PCIDevice
        var siblings: [PCIDevice] = []
        var hasIVRS = false
        var release = KernelVersion(7, 0)
        var isolated: Bool
        var testDescription: String {
            "\(quirk.rawValue) \(device.vendorID.map { String($0, radix: 16) } ?? ""):\(device.deviceID.map { String($0, radix: 16) } ?? "") → \(isolated)"
        }
    }

    static let cases: [Case] = [
        // AMD SB7x0-SB9x0 SMBus, multifunction on the root bus, with and without IVRS.
        Case(
            quirk: .amdSouthbridge, device: device("0000:00:14.0", 0x1002, 0x4385, nil, multifunction: true), hasIVRS: true, isolated: true),
        Case(
            quirk: .amdSouthbridge, device: device("0000:00:14.0", 0x1002, 0x4385, nil, multifunction: true), hasIVRS: false,
            isolated: false),
        Case(
            quirk: .amdSouthbridge, device: device("0000:00:14.3", 0x1022, 0x780e, nil, multifunction: true), hasIVRS: true, isolated: false
        ),
        // Intel I350 functions without ACS.
        Case(quirk: .multifunctionEndpoint, device: device("0000:02:00.1", 0x8086, 0x1521, .endpoint, multifunction: true), isolated: true),
        // Broadcom BCM5760X arrived in 6.10.
        Case(
            quirk: .multifunctionEndpoint, device: device("0000:02:00.1", 0x14e4, 0x1750, .endpoint, multifunction: true),
            release: KernelVersion(6, 12), isolated: true),
        Case(
            quirk: .multifunctionEndpoint, device: device("0000:02:00.1", 0x14e4, 0x1750, .endpoint, multifunction: true),
            release: KernelVersion(6, 1), isolated: false),
        // Xeon E5 v3 CBDMA 8086:2f21, a root-complex integrated endpoint; the same ID as an endpoint is not.
        Case(
            quirk: .intelRootComplexEndpoint,
            device: device("0000:00:04.1", 0x8086, 0x2f21, .rootComplexIntegratedEndpoint, multifunction: true), isolated: true),
        Case(
            quirk: .intelRootComplexEndpoint, device: device("0000:00:04.1", 0x8086, 0x2f21, .endpoint, multifunction: true),
            isolated: false),
        Case(quirk: .qualcommRootPort, device: device("0000:00:00.0", 0x17cb, 0x0400, .rootPort), isolated: true),
        Case(
            quirk: .qualcommRootPort, device: device("0000:00:00.0", 0x17cb, 0x0120, .rootPort), release: KernelVersion(6, 12),
            isolated: false),
        // Intel 8 series (Lynx Point) root port: isolated by the chipset once the IOMMU asks for ACS.
        Case(quirk: .intelPCH, device: device("0000:00:1c.0", 0x8086, 0x8c10, .rootPort), isolated: true),
        // Sunrise Point root port with its misplaced ACS capability.
        Case(
            quirk: .intelSPTPCH,
            device: device("0000:00:1c.0", 0x8086, 0xa110, .rootPort, acs: ACSCapability(capability: 0x1f, control: 0)), isolated: true),
        Case(quirk: .cavium, device: device("0000:00:01.0", 0x177d, 0xaf84, .rootPort), isolated: true),
        Case(quirk: .xgene, device: device("0000:00:00.0", 0x1def, 0xe005, .rootPort), isolated: true),
        Case(quirk: .broadcomIProc, device: device("0000:00:00.0", 0x14e4, 0xd714, .rootPort), isolated: true),
        Case(quirk: .loongson, device: device("0000:00:09.0", 0x0014, 0x7a09, .rootPort), release: KernelVersion(6, 16), isolated: true),
        Case(quirk: .loongson, device: device("0000:00:09.0", 0x0014, 0x7a09, .rootPort), release: KernelVersion(6, 12), isolated: false),
        Case(quirk: .amazonAnnapurna, device: device("0000:00:00.0", 0x1c36, 0x0031, .rootPort), isolated: true),
        Case(quirk: .nxpRootPort, device: device("0000:00:00.0", 0x1957, 0x8d81, .rootPort), isolated: true),
        Case(quirk: .zhaoxinPorts, device: device("0000:00:02.0", 0x1d17, 0x0717, .rootPort), isolated: true),
        // An unlisted Zhaoxin port is "not isolated" even with a full ACS capability.
        Case(
            quirk: .zhaoxinPorts,
            device: device("0000:00:02.0", 0x1d17, 0x0800, .rootPort, acs: ACSCapability(capability: 0x1f, control: 0x1f)), isolated: false),
        Case(quirk: .wangxun, device: device("0000:01:00.1", 0x8088, 0x1001, .endpoint, multifunction: true), isolated: true),
        Case(
            quirk: .wangxun, device: device("0000:01:00.1", 0x8088, 0x5010, .endpoint, multifunction: true), release: KernelVersion(6, 12),
            isolated: false),
    ]

    @Test(arguments: cases)
    func acsQuirkAnswersAsTheKernelDoes(_ test: Case) {
        var devices = [test.device] + test.siblings
        // The other functions of a multifunction slot, so it is one.
        if test.device.config?.isMultifunction == true, test.device.address.function != 0 {
            var first = test.device
            first.address.function = 0
            devices.append(first)
        }
        let topology = PCITopology(devices, quirks: ACSQuirks(release: test.release, hasIVRS: test.hasIVRS))
        let answer = topology.acsEnabled(test.device.address)
        #expect(answer.enabled == test.isolated, "\(answer.why)")
        if test.isolated { #expect(answer.why.hasPrefix(test.quirk.rawValue)) }
    }

    /// Every entry of `pci_dev_acs_enabled[]` that names a device: a function with exactly those ids
    /// gets its answer from that entry's quirk function, in some shape the function accepts (the six
    /// vendor-wide entries filter by their own id lists and are covered by `cases`).
    @Test func everyEntryWithADeviceIDIsAnsweredByItsQuirk() {
        let shapes: [PCIExpressPortType?] = [.endpoint, .rootPort, .downstreamPort, .rootComplexIntegratedEndpoint, nil]
        var unanswered: [String] = []
        for entry in ACSQuirks.table {
            guard let id = entry.device else { continue }
            let answered = shapes.contains { shape in
                let device = Self.device("0000:00:14.1", entry.vendor, id, shape, multifunction: true)
                var first = device
                first.address.function = 0
                let topology = PCITopology([device, first], quirks: ACSQuirks(release: KernelVersion(7, 0), hasIVRS: true))
                return topology.acsEnabled(device.address).why.hasPrefix(entry.quirk.rawValue)
            }
            if !answered { unanswered.append("\(String(entry.vendor, radix: 16)):\(String(id, radix: 16)) \(entry.quirk.rawValue)") }
        }
        #expect(unanswered.isEmpty, "\(unanswered)")
        #expect(ACSQuirks.table.filter { $0.device != nil }.count == 126)
    }

    @Test func everyQuirkFunctionHasACase() {
        #expect(Set(Self.cases.map(\.quirk)) == Set(ACSQuirks.Quirk.allCases))
    }

    @Test func everyTableFunctionIsNamedInTheTable() {
        #expect(Set(ACSQuirks.table.map(\.quirk)) == Set(ACSQuirks.Quirk.allCases))
        #expect(ACSQuirks.table.count == 132)
    }

    /// Groups of a small topology, as `Model.predictGroups` makes them.
    static func groups(_ devices: [PCIDevice], release: KernelVersion = KernelVersion(6, 12)) -> (Set<Set<String>>, [Merge]) {
        var snapshot = Snapshot(iommus: [IOMMUUnit(name: "dmar0", driver: .intel(capability: nil, extendedCapability: nil))])
        snapshot.kernel = KernelInfo(
            release: "\(release.major).\(release.minor).0", version: release, commandLine: KernelCommandLine("intel_iommu=on"))
        snapshot.pciDevices = devices.map { device in
            var covered = device
            covered.iommu = "dmar0"
            return covered
        }
        let prediction = Model.predict(snapshot)
        return (Set(prediction.groups.map { Set($0.members.map(\.description)) }), prediction.groups.flatMap(\.merges))
    }

    @Test func aRicohCardReaderJoinsFunctionZeroThroughItsAlias() {
        // Ricoh R5C832 FireWire at 0b:00.0, its card reader function e832 at 0b:00.3 aliased to 0b:00.0;
        // both have ACS isolation, so only the alias can join them.
        let acs = ACSCapability(capability: 0x1f, control: 0x1f)
        let (groups, merges) = Self.groups([
            Self.device("0000:0b:00.0", 0x1180, 0xe832, .endpoint, multifunction: true, acs: acs),
            Self.device("0000:0b:00.3", 0x1180, 0xe832, .endpoint, multifunction: true, acs: acs),
        ])
        #expect(groups == [["0000:0b:00.0", "0000:0b:00.3"]])
        #expect(merges.first?.sentence.contains("quirk_dma_func0_alias") == true)
    }

    @Test func aMarvellPhantomFunctionMergesNothing() {
        // 88SE9128 aliases 03:00.1, where no device is: alone in its group.
        let (groups, _) = Self.groups([Self.device("0000:03:00.0", 0x1b4b, 0x9128, .endpoint)])
        #expect(groups == [["0000:03:00.0"]])
    }

    @Test func aMarvellAliasToARealFunctionMergesIt() {
        let acs = ACSCapability(capability: 0x1f, control: 0x1f)
        let (groups, _) = Self.groups([
            Self.device("0000:03:00.0", 0x1b4b, 0x9230, .endpoint, multifunction: true, acs: acs),
            Self.device("0000:03:00.1", 0x1b4b, 0x9230, .endpoint, multifunction: true, acs: acs),
        ])
        #expect(groups == [["0000:03:00.0", "0000:03:00.1"]])
    }

    @Test func anAdaptecRAIDWithItsSubsystemAliasesDevfnEight() {
        let acs = ACSCapability(capability: 0x1f, control: 0x1f)
        var raid = Self.device("0000:04:00.0", 0x9005, 0x0285, .endpoint, acs: acs)
        raid.subsystemVendorID = 0x9005
        raid.subsystemDeviceID = 0x02bb
        let (groups, _) = Self.groups([raid, Self.device("0000:04:01.0", 0x8086, 0x1000, .endpoint, acs: acs)])
        #expect(groups == [["0000:04:00.0", "0000:04:01.0"]])
    }

    @Test func theXeonPhiAndVCAAndPLXAliasesReachRealDevicesOnly() {
        let acs = ACSCapability(capability: 0x1f, control: 0x1f)
        for (vendor, id, other) in [
            (UInt16(0x8086), UInt16(0x2260), "0000:05:10.0"), (0x8086, 0x2954, "0000:05:03.4"), (0x10b5, 0x87b0, "0000:05:1f.7"),
        ] {
            let (groups, _) = Self.groups([
                Self.device("0000:05:00.0", vendor, id, .endpoint, acs: acs), Self.device(other, 0x8086, 0x1000, .endpoint, acs: acs),
            ])
            #expect(groups == [["0000:05:00.0", other]], "\(String(id, radix: 16))")
        }
    }

    @Test func anASMediaBridgeWithoutPCIeCapabilityAliasesLikeAPCIeToPCIBridge() {
        // ASMedia 1080 at 01:00.0 behind a root port with ACS; two conventional devices behind it.
        let acs = ACSCapability(capability: 0x1f, control: 0x1f)
        let (groups, merges) = Self.groups([
            Self.device("0000:00:1c.0", 0x8086, 0x1000, .rootPort, acs: acs),
            Self.device("0000:01:00.0", 0x1b21, 0x1080, nil, below: ["0000:00:1c.0"]),
            Self.device("0000:02:00.0", 0x10ec, 0x8139, nil, below: ["0000:00:1c.0", "0000:01:00.0"]),
        ])
        #expect(groups.contains(["0000:01:00.0", "0000:02:00.0"]))
        #expect(
            merges.contains {
                $0.sentence.contains("PCI bridge 0000:01:00.0, which quirk_use_pcie_bridge_dma_alias makes alias like a PCIe-to-PCI bridge")
            })
    }

    @Test func aBroadcomTranslationRootEndsTheAliasWalk() {
        let bridge = Self.device("0000:00:00.0", 0x14e4, 0x9000, .pcieToPCIBridge)
        let below = Self.device("0000:01:00.0", 0x10ec, 0x8139, nil, below: ["0000:00:00.0"])
        let topology = PCITopology([bridge, below])
        #expect(topology.dmaAliasBridges(of: below.address).isEmpty)
    }
}
