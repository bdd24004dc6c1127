import IOMMUModel
import IOMMUSnapshot
import Testing

/// The model's rules one at a time, on real captures and on typed edits of them.
@Suite struct ModelRuleTests {
    func address(_ text: String) -> PCIAddress { PCIAddress("0000:" + text)! }

    @Test func isaBridgeGroupHasDirectRelaxableRegion_linux61() throws {
        let prediction = Model.predict(try Captures.snapshot("linux-61-intel"))
        let group = try #require(prediction.group(containing: address("00:1f.0")))
        let isa = try #require(group.regions.first)
        #expect(isa.region == ReservedRegion(start: 0, end: 0xff_ffff, type: .directRelaxable))
        #expect(isa.sources == [.isaBridge(address("00:1f.0"))])
    }

    @Test func isaBridgeRegionFollowsTheRelease() throws {
        var snapshot = try Captures.snapshot("linux-510-intel")
        for (release, expected) in [
            ("5.2.0", nil), ("5.4.0", ReservedRegionType.direct), ("5.5.0", .directRelaxable), ("7.0.0", .directRelaxable),
        ] {
            snapshot.kernel.version = KernelVersion(release: release)
            let group = try #require(Model.predict(snapshot).group(containing: address("00:1f.0")))
            #expect(group.regions.first { $0.region.start == 0 }?.region.type == expected, "\(release)")
        }
    }

    @Test func multifunctionSlotWithoutACSSharesAGroup_linux612() throws {
        let prediction = Model.predict(try Captures.snapshot("linux-612-intel"))
        let group = try #require(prediction.group(containing: address("00:1f.2")))
        #expect(group.members == [address("00:1f.0"), address("00:1f.2"), address("00:1f.3")])
        #expect(
            group.merges.allSatisfy { if case .multifunctionWithoutACS(let slot, _) = $0.cause { slot == "0000:00:1f" } else { false } })
        #expect(group.merges.first?.sentence.contains("conventional PCI") == true)
    }

    @Test func functionsAboveZeroCountAsMultifunctionWithoutTheHeaderBit_linux61() throws {
        // QEMU gives a second function no multifunction bit (seen in the test bed's 00:09.1), and
        // pci_scan_slot() marks it multifunction anyway: the slot still forms one group.
        var snapshot = try Captures.snapshot("linux-61-intel")
        for index in snapshot.pciDevices.indices
        where snapshot.pciDevices[index].address.slot == "0000:00:1f" && snapshot.pciDevices[index].address.function > 0 {
            snapshot.pciDevices[index].config?.isMultifunction = false
        }
        #expect(Model.predict(snapshot).group(containing: address("00:1f.3"))?.members.count == 3)
    }

    @Test func pcieToPCIBridgeGroupsItselfWithEverythingBehindIt_linux510() throws {
        let prediction = Model.predict(try Captures.snapshot("linux-510-intel"))
        let group = try #require(prediction.group(containing: address("02:02.0")))
        #expect(group.members == [address("00:05.0"), address("02:01.0"), address("02:02.0")])
        #expect(
            group.merges.map(\.cause) == [
                .dmaAlias(bridge: address("00:05.0"), hop: .pcieToPCIBridge),
                .dmaAlias(bridge: address("00:05.0"), hop: .pcieToPCIBridge),
            ])
    }

    @Test func rootPortWithACSIsolatesTheDeviceBelow_linux61() throws {
        let snapshot = try Captures.snapshot("linux-61-intel")
        let prediction = Model.predict(snapshot)
        #expect(prediction.group(containing: address("01:00.0"))?.members == [address("01:00.0")])
        #expect(prediction.context.topology.acsEnabled(address("00:04.0")).enabled)
        // The same port with its ACS controls switched off no longer isolates.
        var edited = snapshot
        let index = try #require(edited.pciDevices.firstIndex { $0.address == address("00:04.0") })
        edited.pciDevices[index].config?.acs?.control = 0
        let merged = try #require(Model.predict(edited).group(containing: address("01:00.0")))
        #expect(merged.members == [address("00:04.0"), address("01:00.0")])
        #expect(merged.merges.first?.sentence.contains("ACS control lacks SV+RR+CR+UF") == true)
    }

    @Test func defaultTypeIsDMAOn510AndDMAFQFrom515() throws {
        for (name, expected) in [("linux-510-intel", DomainType.dma), ("linux-61-intel", .dmaFQ), ("linux-612-intel", .dmaFQ)] {
            let policy = Model.predict(try Captures.snapshot(name)).policy
            #expect(policy.globalType == expected, "\(name)")
            #expect(policy.passthroughSource == .distributionDefault("Debian's default build"))
        }
    }

    @Test func commandLineParametersApplyInOrder() throws {
        var snapshot = try Captures.snapshot("linux-61-intel")
        let cases: [(String, DomainType)] = [
            ("iommu=pt", .identity), ("iommu.passthrough=1", .identity), ("iommu=pt iommu.passthrough=0", .dmaFQ),
            ("iommu.strict=1", .dma), ("intel_iommu=on,strict", .dma), ("iommu.passthrough=on iommu=nopt", .dmaFQ),
            ("iommu.strict=0", .dmaFQ),
        ]
        for (line, expected) in cases {
            snapshot.kernel.commandLine = KernelCommandLine("console=ttyS0 " + line)
            #expect(Model.predict(snapshot).policy.globalType == expected, "\(line)")
        }
    }

    @Test func buildConfigDecidesWithoutCommandLine() throws {
        var snapshot = try Captures.snapshot("linux-61-intel")
        snapshot.kernelConfig = KernelConfig(options: ["CONFIG_IOMMU_DEFAULT_PASSTHROUGH": "y"])
        #expect(Model.predict(snapshot).policy.globalType == .identity)
        snapshot.kernelConfig = KernelConfig(options: ["CONFIG_IOMMU_DEFAULT_PASSTHROUGH": "n", "CONFIG_IOMMU_DEFAULT_DMA_STRICT": "y"])
        #expect(Model.predict(snapshot).policy.globalType == .dma)
        #expect(Model.predict(snapshot).policy.strictSource == .buildConfig("CONFIG_IOMMU_DEFAULT_DMA_STRICT=y"))
    }

    @Test func cachingModeForcesStrictFrom515() throws {
        for (name, expected) in [("linux-510-intel", DomainType.dma), ("linux-61-intel", .dma), ("linux-612-intel", .dma)] {
            var snapshot = try Captures.snapshot(name)
            guard case .intel(let cap?, let ecap) = snapshot.iommus.first?.driver else { Issue.record("\(name): no Intel unit"); continue }
            snapshot.iommus[0].driver = .intel(capability: cap | (1 << 7), extendedCapability: ecap)
            let prediction = Model.predict(snapshot)
            #expect(prediction.policy.globalType == expected, "\(name)")
            if name != "linux-510-intel" {
                #expect(prediction.policy.strictSource == .virtualisedIOMMU("dmar0: caching mode, cap bit 7"))
            }
        }
    }

    @Test func hardwareWithoutPassThroughGetsDMAFrom612() throws {
        for (name, expected) in [("linux-61-intel-pt", DomainType.identity), ("linux-612-intel", .dma)] {
            var snapshot = try Captures.snapshot(name)
            guard case .intel(let cap, let ecap?) = snapshot.iommus.first?.driver else { Issue.record("\(name): no Intel unit"); continue }
            snapshot.iommus[0].driver = .intel(capability: cap, extendedCapability: ecap & ~(1 << 6))
            let decision = try #require(Model.predict(snapshot).group(containing: address("00:02.0"))).typeDecision
            #expect(decision.type == expected, "\(name): \(decision.rule.sentence)")
        }
    }

    @Test func untrustedDeviceForcesPlainDMAEvenWhenLazy_linux612() throws {
        var snapshot = try Captures.snapshot("linux-612-intel")
        let index = try #require(snapshot.pciDevices.firstIndex { $0.address == address("01:00.0") })
        snapshot.pciDevices[index].removable = .removable
        let prediction = Model.predict(snapshot)
        #expect(prediction.group(containing: address("01:00.0"))?.typeDecision.type == .dma)
        #expect(prediction.group(containing: address("00:02.0"))?.typeDecision.type == .dmaFQ)
    }

    @Test func identityDomainObjectFollowsTheRelease() throws {
        var snapshot = try Captures.snapshot("linux-61-intel-pt")
        let members = snapshot.groups.map(\.pciMembers)
        let cases: [(String, IdentityDomainObject)] = [
            ("5.2.0", .driverInternal), ("5.10.0", .sharedAllocated(name: "si_domain")),
            ("6.11.0", .sharedAllocated(name: "si_domain")), ("6.12.0", .staticGlobal(name: "identity_domain")),
        ]
        for (release, object) in cases {
            snapshot.kernel.version = KernelVersion(release: release)
            let share = try #require(Model.predict(snapshot).identityStructure(identityGroups: members).first)
            #expect(share.object == object, "\(release)")
            #expect(share.isShared == object.isShared)
            #expect(share.lifetimeProtected, "no released kernel frees the shared identity domain")
        }
    }

    @Test func regionsMergeTouchingFrom53AndOnlyOverlappingBefore() throws {
        var snapshot = try Captures.snapshot("linux-61-intel")
        let touching = [
            ReservedRegion(start: 0x1000, end: 0x1fff, type: .direct), ReservedRegion(start: 0x2000, end: 0x2fff, type: .direct),
            ReservedRegion(start: 0x1800, end: 0x1fff, type: .msi),
        ]
        // Two RMRRs back to back for 00:03.0, and the table that declares them.
        snapshot.firmware.dmar = FirmwareTable(bytes: Self.dmar(rmrrs: [(0x1000, 0x1fff), (0x2000, 0x2fff)], device: 3))
        let merged = try #require(Model.predict(snapshot).group(containing: address("00:03.0"))).regions.map(\.region)
        #expect(
            merged == [
                ReservedRegion(start: 0x1000, end: 0x2fff, type: .direct), ReservedRegion(start: 0xfee0_0000, end: 0xfeef_ffff, type: .msi),
            ])
        snapshot.kernel.version = KernelVersion(4, 19)
        let apart = try #require(Model.predict(snapshot).group(containing: address("00:03.0"))).regions.map(\.region)
        #expect(apart.prefix(2) == touching.prefix(2))
    }

    static func dmar(rmrrs: [(UInt64, UInt64)], device: UInt8) -> [UInt8] {
        func le(_ value: UInt64, _ count: Int) -> [UInt8] { (0..<count).map { UInt8((value >> (8 * UInt64($0))) & 0xff) } }
        var bytes = Array("DMAR".utf8) + le(0, 4) + [UInt8](repeating: 0, count: 28) + [38, 1] + [UInt8](repeating: 0, count: 10)
        for (base, limit) in rmrrs {
            bytes += le(1, 2) + le(32, 2) + [0, 0, 0, 0] + le(base, 8) + le(limit, 8) + [1, 8, 0, 0, 0, 0, device, 0]
        }
        bytes.replaceSubrange(4..<8, with: le(UInt64(bytes.count), 4))
        return bytes
    }
}

/// An AMD unit on the same topology (typed edit: the reader decides the family from the unit's
/// attribute folder; real AMD captures come from the test bed).
@Suite struct AMDModelTests {
    func amd(_ name: String, npCache: Bool) throws -> Snapshot {
        var snapshot = try Captures.snapshot(name)
        snapshot.iommus = [IOMMUUnit(name: "ivhd0", driver: .amd(capability: 0x0040_000f | (npCache ? 1 << 26 : 0), features: nil))]
        snapshot.firmware = FirmwareTables(dmar: nil, ivrs: nil)
        for index in snapshot.pciDevices.indices where snapshot.pciDevices[index].iommu != nil {
            snapshot.pciDevices[index].iommu = "ivhd0"
        }
        return snapshot
    }

    @Test func amdGroupsGetTheHyperTransportHoleAndNoISARegion() throws {
        let prediction = Model.predict(try amd("linux-61-intel", npCache: true))
        let regions = try #require(prediction.group(containing: PCIAddress("0000:00:1f.0")!)).regions.map(\.region.kernelLine)
        #expect(regions == ["0x00000000fee00000 0x00000000feefffff msi", "0x000000fd00000000 0x000000ffffffffff reserved"])
    }

    @Test func npCacheForcesStrictFrom515() throws {
        #expect(Model.predict(try amd("linux-61-intel", npCache: true)).policy.globalType == .dma)
        #expect(Model.predict(try amd("linux-61-intel", npCache: false)).policy.globalType == .dmaFQ)
        #expect(Model.predict(try amd("linux-510-intel", npCache: true)).policy.globalType == .dma)
    }

    @Test func intelIOMMUOffDoesNotTouchAnAMDUnit() throws {
        var snapshot = try amd("linux-612-intel", npCache: true)
        snapshot.kernel.commandLine = KernelCommandLine("console=ttyS0 intel_iommu=off")
        #expect(Model.predict(snapshot).policy.disabledBy == nil)
        snapshot.kernel.commandLine = KernelCommandLine("console=ttyS0 amd_iommu=off")
        #expect(Model.predict(snapshot).policy.disabledBy == "amd_iommu=off")
    }

    @Test func amdIdentityGroupsShareADomainOnlyWithTheStaticOne() throws {
        var snapshot = try amd("linux-61-intel-pt", npCache: true)
        let members = snapshot.groups.map(\.pciMembers)
        #expect(Model.predict(snapshot).identityStructure(identityGroups: members).first?.isShared == false)
        snapshot.kernel.version = KernelVersion(6, 13)
        #expect(Model.predict(snapshot).identityStructure(identityGroups: members).first?.isShared == true)
    }
}
