import Testing
@testable import IOMMUSnapshot

@Suite struct ParserTests {
    @Test func reservedRegionsParsesKernelLinesAndAcceptsAnEmptyFile() throws {
        let text =
            "0x0000000000000000 0x0000000000ffffff direct-relaxable\n0x00000000fee00000 0x00000000feefffff msi\n0x000000fd00000000 0x000000ffffffffff reserved\n"
        let regions = try ReservedRegionsParser.parse(Array(text.utf8))
        #expect(regions.map(\.kernelLine) == text.split(separator: "\n").map(String.init))
        #expect(try ReservedRegionsParser.parse([]) == [])
    }

    @Test(arguments: [
        "0x00000000fee00000 0x00000000feefffff sw-msi\n",
        "0x00000000fee00000  0x00000000feefffff msi\n",
        "0xfee00000 0xfeefffff msi\n",
        "0x00000000feefffff 0x00000000fee00000 msi\n",
        "0x00000000fee0000g 0x00000000feefffff msi\n",
        "\n",
    ])
    func reservedRegionsRejectsWhatTheKernelNeverPrints(_ text: String) {
        #expect(throws: ParseError.self) { try ReservedRegionsParser.parse(Array(text.utf8)) }
    }

    @Test func groupTypeKeepsTheMissingNewlineOfOldKernels() throws {
        #expect(try GroupTypeParser.parse(Array("DMA-FQ\n".utf8)) == .value(.dmaFQ, hasNewline: true))
        #expect(try GroupTypeParser.parse(Array("DMA".utf8)) == .value(.dma, hasNewline: false))
        #expect(throws: ParseError.self) { try GroupTypeParser.parse(Array("dma\n".utf8)) }
        #expect(throws: ParseError.self) { try GroupTypeParser.parse(Array("identity\nDMA\n".utf8)) }
    }

    @Test func pciAddressesRoundTripIncludingVMDDomains() {
        #expect(PCIAddress("0000:00:1f.2")?.description == "0000:00:1f.2")
        #expect(PCIAddress("10000:e1:00.0")?.domain == 0x10000)
        #expect(PCIAddress("0000:00:1f.2")?.requesterID == 0x00fa)
        for bad in ["", "00:1f.2", "0000:00:20.0", "0000:00:1f.8", "0000:000:1f.0", "MSFT0201:00", "0000:00:1f.2 "] {
            #expect(PCIAddress(bad) == nil, "\(bad)")
        }
    }

    @Test func kernelVersionsOfEveryDebianLine() {
        #expect(KernelVersion(release: "5.10.0-32-amd64") == KernelVersion(5, 10, 0))
        #expect(KernelVersion(release: "6.12.117+deb13-amd64") == KernelVersion(6, 12, 117))
        #expect(KernelVersion(release: "7.0.4+deb14-amd64") == KernelVersion(7, 0, 4))
        #expect(KernelVersion(release: "6.1") == KernelVersion(6, 1, 0))
        #expect(KernelVersion(release: "linux") == nil)
        #expect(KernelVersion(release: "6") == nil)
        #expect(KernelVersion(5, 10) < KernelVersion(6, 1))
    }

    @Test func procVersionNeedsItsPrefix() throws {
        let info = try ProcVersionParser.parse(
            Array("Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP\n".utf8))
        #expect(info.release == "6.1.0-56-amd64")
        #expect(throws: ParseError.self) { try ProcVersionParser.parse(Array("Darwin Kernel Version 23\n".utf8)) }
        #expect(throws: ParseError.self) { try ProcVersionParser.parse([]) }
    }

    @Test func commandLineSplitsLikeParseArgs() throws {
        let line = try ProcCmdlineParser.parse(
            Array("console=ttyS0 intel_iommu=on,igfx_off iommu=pt dyndbg=\"file iommu.c +p\" quiet iommu.strict=0 iommu.strict=1\n".utf8))
        #expect(line.options(of: "intel_iommu") == ["on", "igfx_off"])
        #expect(line.value(of: "iommu") == "pt")
        #expect(line.value(of: "dyndbg") == "file iommu.c +p")
        #expect(line.contains("quiet"))
        #expect(line.value(of: "iommu.strict") == "1")
        #expect(line.value(of: "intel-iommu") == "on,igfx_off")
    }

    @Test func idsAndMasksAreBounded() throws {
        #expect(try SysfsAttributeParser.hexID(Array("0x8086\n".utf8), bits: 16) == 0x8086)
        #expect(throws: ParseError.self) { try SysfsAttributeParser.hexID(Array("0x18086\n".utf8), bits: 16) }
        #expect(throws: ParseError.self) { try SysfsAttributeParser.hexID(Array("8086\n".utf8), bits: 16) }
        #expect(try SysfsAttributeParser.decimal(Array("64\n".utf8), range: 0...64) == 64)
        #expect(throws: ParseError.self) { try SysfsAttributeParser.decimal(Array("65\n".utf8), range: 0...64) }
        #expect(try SysfsAttributeParser.removable(Array("removable\n".utf8)) == .removable)
        #expect(throws: ParseError.self) { try SysfsAttributeParser.removable(Array("yes\n".utf8)) }
    }

    @Test func amdFeatureRegistersInEveryReleasesLayout() throws {
        #expect(try SysfsAttributeParser.hexRegisters(Array("29d3\n".utf8)) == [0x29d3])
        #expect(try SysfsAttributeParser.hexRegisters(Array("0:29d3\n".utf8)) == [0, 0x29d3])
        #expect(try SysfsAttributeParser.hexRegisters(Array("29d3:0\n".utf8)) == [0x29d3, 0])
        for bad in ["29d3:\n", ":\n", "0x29d3:0:\n", "1:2:3:4:5\n", "zz\n"] {
            #expect(throws: ParseError.self, "\(bad)") { try SysfsAttributeParser.hexRegisters(Array(bad.utf8)) }
        }
    }

    @Test func configSpaceWalksAreBoundedOnLoopingLists() throws {
        var config = [UInt8](repeating: 0, count: 4096)
        config[0] = 0x86; config[1] = 0x80
        config[0x06] = 0x10
        config[0x34] = 0x40
        // Standard capability at 0x40 points to itself and is not PCIe.
        config[0x40] = 0x05; config[0x41] = 0x40
        #expect(try PCIConfigSpaceParser.parse(config).express == nil)
        // A PCIe capability, then an extended list that loops at 0x100.
        config[0x40] = 0x10; config[0x42] = 0x40
        config[0x100] = 0x01; config[0x101] = 0x00; config[0x102] = 0x01; config[0x103] = 0x10
        let looping = try PCIConfigSpaceParser.parse(config)
        #expect(looping.express?.portType == .rootPort)
        #expect(looping.acs == nil)
        // ACS at 0x100 with SV|RR|CR|UF implemented and enabled.
        config[0x100] = 0x0d; config[0x102] = 0x01; config[0x103] = 0x00
        config[0x104] = 0x1f; config[0x106] = 0x1d
        let acs = try #require(try PCIConfigSpaceParser.parse(config).acs)
        #expect(acs.capability == 0x1f)
        #expect(acs.control == 0x1d)
        #expect(throws: ParseError.self) { try PCIConfigSpaceParser.parse(Array(config.prefix(63))) }
        #expect(throws: ParseError.self) { try PCIConfigSpaceParser.parse([UInt8](repeating: 0xff, count: 256)) }
    }

    @Test func iomemFindsTheTopOfRAMAndSeesThroughHiddenAddresses() throws {
        let text =
            "00001000-0009fbff : System RAM\n00100000-7ffdefff : System RAM\n  50a00000-51801d31 : Kernel code\n100000000-17fffffff : System RAM\n"
        #expect(try IOMemParser.parse(Array(text.utf8)).topOfRAM == 0x1_7fff_ffff)
        let hidden = "00000000-00000000 : System RAM\n00000000-00000000 : Reserved\n"
        #expect(try IOMemParser.parse(Array(hidden.utf8)).topOfRAM == nil)
        #expect(throws: ParseError.self) { try IOMemParser.parse(Array("garbage\n".utf8)) }
    }

    @Test func kernelConfigReadsSetAndUnsetOptions() throws {
        let text =
            "#\n# Automatically generated\nCONFIG_IOMMU_DEFAULT_DMA_LAZY=y\n# CONFIG_IOMMU_DEFAULT_PASSTHROUGH is not set\nCONFIG_CMDLINE=\"quiet\"\n"
        let config = try KernelConfigParser.parse(Array(text.utf8))
        #expect(config.isEnabled("CONFIG_IOMMU_DEFAULT_DMA_LAZY") == true)
        #expect(config.isEnabled("CONFIG_IOMMU_DEFAULT_PASSTHROUGH") == false)
        #expect(config.isEnabled("CONFIG_INTEL_IOMMU") == nil)
        #expect(config.options["CONFIG_CMDLINE"] == "quiet")
        #expect(throws: ParseError.self) { try KernelConfigParser.parse(Array("not a config\n".utf8)) }
    }
}
