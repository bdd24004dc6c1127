import Testing
@testable import IOMMUSnapshot

/// What the reader must find in the real 5.10, 6.1 and 6.12 trees (Intel IOMMU under QEMU).
@Suite struct RealCaptureTests {
    @Test(arguments: Fixtures.sharedCaptures)
    func readsWithoutErrors(_ fixture: String) throws {
        let snapshot = try Fixtures.read(fixture)
        #expect(snapshot.errors == [])
        #expect(snapshot.groups.count == 10)
        #expect(snapshot.pciDevices.count == 14)
        #expect(snapshot.hasIOMMUGroupsFolder)
    }

    @Test(arguments: Fixtures.sharedCaptures)
    func isaBridgeGroupHoldsLPCSATAAndSMBusWithDirectRelaxableRegion(_ fixture: String) throws {
        let snapshot = try Fixtures.read(fixture)
        let group = try #require(snapshot.group(withID: 8))
        #expect(group.pciMembers == [address("0000:00:1f.0"), address("0000:00:1f.2"), address("0000:00:1f.3")])
        #expect(
            group.reservedRegions == [
                ReservedRegion(start: 0, end: 0xff_ffff, type: .directRelaxable),
                ReservedRegion(start: 0xfee0_0000, end: 0xfeef_ffff, type: .msi),
            ])
        #expect(snapshot.device(address("0000:00:1f.0"))?.classCode == 0x060100)
    }

    @Test(arguments: Fixtures.sharedCaptures)
    func pcieToPCIBridgeSharesItsGroupWithBothDevicesBehindIt(_ fixture: String) throws {
        let snapshot = try Fixtures.read(fixture)
        let group = try #require(snapshot.group(containing: address("0000:00:05.0")))
        #expect(Set(group.pciMembers) == [address("0000:00:05.0"), address("0000:02:01.0"), address("0000:02:02.0")])
        let behind = try #require(snapshot.device(address("0000:02:01.0")))
        #expect(behind.upstream == [address("0000:00:05.0")])
        #expect(behind.path == "sys/devices/pci0000:00/0000:00:05.0/0000:02:01.0")
        #expect(behind.iommuGroup == group.id)
    }

    @Test(arguments: [
        ("linux-510-intel", DomainType.dma),
        ("linux-61-intel", .dmaFQ),
        ("linux-61-intel-pt", .identity),
        ("linux-612-intel", .dmaFQ),
    ])
    func everyGroupHasTheReleaseDefaultType(_ fixture: String, _ expected: DomainType) throws {
        let snapshot = try Fixtures.read(fixture)
        for group in snapshot.groups {
            #expect(group.type == .value(expected, hasNewline: true), "group \(group.id)")
        }
    }

    @Test(arguments: Fixtures.sharedCaptures)
    func configSpaceDecodesMultifunctionAndPortTypes(_ fixture: String) throws {
        let snapshot = try Fixtures.read(fixture)
        func config(_ slot: String) throws -> PCIConfigSpace { try #require(snapshot.device(address(slot))?.config) }
        // ICH9 LPC at 00:1f.0 is function 0 of a multifunction slot; conventional header only.
        #expect(try config("0000:00:1f.0").isMultifunction)
        #expect(try config("0000:00:1f.0").length == 256)
        #expect(try config("0000:00:00.0").isMultifunction == false)
        #expect(try config("0000:00:04.0").express?.portType == .rootPort)
        #expect(try config("0000:00:04.0").headerLayout == 1)
        #expect(try config("0000:00:05.0").express?.portType == .pcieToPCIBridge)
        #expect(try config("0000:01:00.0").express?.portType == .endpoint)
        #expect(try config("0000:02:01.0").express == nil)
    }

    @Test func kernelCommandLineAndIOMMUUnitAreRead() throws {
        let snapshot = try Fixtures.read("linux-61-intel-pt")
        #expect(snapshot.kernel.release == "6.1.0-56-amd64")
        #expect(snapshot.kernel.version == KernelVersion(6, 1, 0))
        #expect(snapshot.kernel.commandLine?.options(of: "iommu") == ["pt"])
        #expect(snapshot.kernel.commandLine?.value(of: "intel_iommu") == "on")
        #expect(snapshot.iommus == [IOMMUUnit(name: "dmar0", driver: .intel(capability: 0xd2008c22260206, extendedCapability: 0xf00f4a))])
        #expect(snapshot.firmware.dmar?.bytes?.prefix(4) == Array("DMAR".utf8)[...])
        #expect(snapshot.firmware.ivrs == nil)
        // 2 GiB guest: RAM ends below the 32-bit PCI hole.
        #expect(snapshot.memory.topOfRAM == 0x7ffd_efff)
    }

    @Test(arguments: Fixtures.sharedCaptures)
    func devicesCarryTheirAttributesAndLinks(_ fixture: String) throws {
        let snapshot = try Fixtures.read(fixture)
        let port = try #require(snapshot.device(address("0000:00:04.0")))
        #expect(port.vendorID == 0x1b36 && port.deviceID == 0x000c)
        #expect(port.driver == "pcieport")
        #expect(port.iommu == "dmar0")
        let nic = try #require(snapshot.device(address("0000:01:00.0")))
        #expect(nic.dmaMaskBits == 32)
        #expect(nic.driver == nil)
        #expect(nic.upstream == [address("0000:00:04.0")])
    }
}

/// Debian's real build configurations (5.10, 6.1, 6.12): what the model's policy reads from them.
@Suite struct RealKernelConfigTests {
    @Test(arguments: Fixtures.kernelConfigs)
    func parsesEveryOptionLine(_ name: String) throws {
        let bytes = try Fixtures.kernelConfig(name)
        let config = try KernelConfigParser.parse(bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        let setLines = text.split(separator: "\n").filter { $0.hasPrefix("CONFIG_") }
        let unsetLines = text.split(separator: "\n").filter { $0.hasPrefix("# CONFIG_") && $0.hasSuffix(" is not set") }
        #expect(config.options.count == setLines.count + unsetLines.count)
        #expect(config.isEnabled("CONFIG_INTEL_IOMMU") == true)
        #expect(config.isEnabled("CONFIG_AMD_IOMMU") == true)
        #expect(config.isEnabled("CONFIG_IOMMU_DEFAULT_PASSTHROUGH") == false)
        // Lazy (DMA-FQ) became a build choice in 5.15; 5.10 has no such option.
        #expect(config.isEnabled("CONFIG_IOMMU_DEFAULT_DMA_LAZY") == (name.hasPrefix("config-5.10") ? nil : true))
    }

    @Test(arguments: Fixtures.kernelConfigs)
    func gzippedAsProcConfigGzInflatesToTheSameBytes(_ name: String) throws {
        let bytes = try Fixtures.kernelConfig(name)
        let compressed = try Fixtures.gzip(bytes)
        #expect(try GzipDecoder.decompress(compressed) == bytes)
        #expect(throws: ParseError.self) { try GzipDecoder.decompress(compressed, limit: bytes.count - 1) }
        #expect(throws: ParseError.self) { try GzipDecoder.decompress(Array(compressed.prefix(compressed.count / 2))) }
    }
}

/// The inflate buffer is sized by the gzip trailer (ISIZE); a trailer that lies is caught, never believed.
@Suite struct GzipSizeHintTests {
    @Test func anUnderstatedTrailerIsRejectedNotTruncatedToTheHint() throws {
        let bytes = try Fixtures.kernelConfig("config-6.1.0-56-amd64")
        var compressed = try Fixtures.gzip(bytes)
        // ISIZE is the last four bytes, little-endian; zlib checks it, so this is corrupt input that
        // must be rejected, not truncated to the hint.
        compressed.replaceSubrange(compressed.count - 4..<compressed.count, with: [0x10, 0, 0, 0])
        #expect(throws: ParseError.self) { try GzipDecoder.decompress(compressed) }
    }

    @Test func anOverstatedTrailerIsRejectedWithinTheLimit() throws {
        let bytes = Array(String(repeating: "CONFIG_X=y\n", count: 1000).utf8)
        var compressed = try Fixtures.gzip(bytes)
        compressed.replaceSubrange(compressed.count - 4..<compressed.count, with: [0xff, 0xff, 0xff, 0xff])
        #expect(throws: ParseError.self) { try GzipDecoder.decompress(compressed, limit: 1 << 16) }
    }
}
