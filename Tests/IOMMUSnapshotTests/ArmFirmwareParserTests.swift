import Foundation
import IOMMUSnapshot
import Testing

/// The Arm captures' firmware files, and builders for hand-made IORT and VIOT tables.
enum ArmFirmware {
    /// Captures booted with ACPI and an SMMUv3: QEMU's IORT with an ITS group, the SMMUv3 and the root complex.
    static let smmuIORT = [
        "qemu-6.1-arm-smmuv3-acpi-default-2g-c", "qemu-6.1-arm-smmuv3-acpi-default-nonedrivers-2g-c", "qemu-6.1-arm-smmuv3-acpi-lazy-2g-c",
        "qemu-6.12-arm-smmuv3-acpi-default-2g-c", "qemu-6.12-arm-smmuv3-acpi-passthrough-2g-c", "qemu-7-arm-smmuv3-acpi-default-2g-c",
        "qemu-7-arm-smmuv3-acpi-default-nonedrivers-2g-c", "qemu-7-arm-smmuv3-acpi-lazy-2g-c",
    ]
    /// Captures booted with ACPI and a virtio-iommu: an IORT without an SMMU, and a VIOT.
    static let virtioACPI = ["qemu-6.12-arm-virtio-iommu-acpi-default-2g-c", "qemu-7-arm-virtio-iommu-acpi-default-2g-c"]
    /// Captures booted with a device tree and an SMMUv3 (`smmuv3@9050000`, phandle 0x8005).
    static let smmuDT = [
        "qemu-6.1-arm-smmuv3-dt-default-2g-c", "qemu-6.1-arm-smmuv3-dt-passthrough-2g-c", "qemu-6.12-arm-smmuv3-dt-default-2g-c",
        "qemu-6.12-arm-smmuv3-dt-lazy-2g-c", "qemu-6.12-arm-smmuv3-dt-strict-2g-c", "qemu-7-arm-smmuv3-dt-default-2g-c",
        "qemu-7-arm-smmuv3-dt-passthrough-2g-c",
    ]
    /// Captures booted with a device tree and a virtio-iommu (PCI function 00:07.0, phandle 0x8006).
    static let virtioDT = ["qemu-6.12-arm-virtio-iommu-dt-default-2g-c", "qemu-7-arm-virtio-iommu-dt-default-2g-c"]

    static let tables = "sys/firmware/acpi/tables/"
    static let deviceTree = "sys/firmware/devicetree/base/"

    static func bytes(_ capture: String, _ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Fixtures.folder.appendingPathComponent(capture + "/" + path)))
    }

    /// Every capture holding `path` (relative to the capture's root).
    static func captures(holding path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: Fixtures.folder.path).filter {
            FileManager.default.fileExists(atPath: Fixtures.folder.appendingPathComponent($0 + "/" + path).path)
        }.sorted()
    }

    static func le(_ value: UInt64, _ count: Int) -> [UInt8] { TableBytes.le(value, count) }

    /// An IORT node: the 16-byte header, its own data, then its ID mappings.
    static func iortNode(type: UInt8, revision: UInt8 = 0, data: [UInt8], mappings: [[UInt8]] = []) -> [UInt8] {
        let mappingOffset = 16 + data.count
        let length = mappingOffset + 20 * mappings.count
        return [type] + le(UInt64(length), 2) + [revision] + le(0, 4) + le(UInt64(mappings.count), 4)
            + le(mappings.isEmpty ? 0 : UInt64(mappingOffset), 4) + data + mappings.flatMap { $0 }
    }

    static func iortMapping(input: UInt32, count: UInt32, output: UInt32, reference: UInt32, flags: UInt32 = 0) -> [UInt8] {
        le(UInt64(input), 4) + le(UInt64(count), 4) + le(UInt64(output), 4) + le(UInt64(reference), 4) + le(UInt64(flags), 4)
    }

    /// An RMR node's data: flags, descriptor count and offset (from the node's start), the descriptors.
    static func rmrData(flags: UInt32, ranges: [(base: UInt64, length: UInt64)]) -> [UInt8] {
        le(UInt64(flags), 4) + le(UInt64(ranges.count), 4) + le(ranges.isEmpty ? 0 : 28, 4)
            + ranges.flatMap { le($0.base, 8) + le($0.length, 8) + le(0, 4) }
    }

    /// IORT header: node count, node array offset (48), reserved.
    static func iort(_ nodes: [[UInt8]]) -> [UInt8] {
        TableBytes.table("IORT", fixed: le(UInt64(nodes.count), 4) + le(48, 4) + le(0, 4), body: nodes.flatMap { $0 })
    }

    /// VIOT header: node count (2), node array offset (2), 8 reserved.
    static func viot(_ nodes: [[UInt8]]) -> [UInt8] {
        TableBytes.table("VIOT", fixed: le(UInt64(nodes.count), 2) + le(48, 2) + le(0, 8), body: nodes.flatMap { $0 })
    }

    static func viotPCIRange(endpoint: UInt32, segments: (UInt16, UInt16), bdfs: (UInt16, UInt16), output: UInt16) -> [UInt8] {
        [1, 0] + le(24, 2) + le(UInt64(endpoint), 4) + le(UInt64(segments.0), 2) + le(UInt64(segments.1), 2) + le(UInt64(bdfs.0), 2)
            + le(UInt64(bdfs.1), 2) + le(UInt64(output), 2) + le(0, 6)
    }

    static func viotVirtioPCI(segment: UInt16, bdf: UInt16) -> [UInt8] {
        [3, 0] + le(16, 2) + le(UInt64(segment), 2) + le(UInt64(bdf), 2) + le(0, 8)
    }

    /// Hands `parse` 5000 copies of `seed`, each with one to six random bytes changed: it must neither
    /// trap nor hang (the fuzz targets go further).
    static func mutate(_ seed: [UInt8], generatorSeed: UInt64, _ parse: ([UInt8]) -> Void) {
        var generator = SplitMix(seed: generatorSeed)
        for _ in 0..<5000 {
            var bytes = seed
            for _ in 0..<Int(generator.next() % 6 + 1) {
                bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
            parse(bytes)
        }
    }

    /// Overwrites `count` little-endian bytes at `offset`.
    static func patch(_ bytes: [UInt8], at offset: Int, _ value: UInt64, _ count: Int) -> [UInt8] {
        var bytes = bytes
        bytes.replaceSubrange(offset..<(offset + count), with: le(value, count))
        return bytes
    }
}

/// One parent suite, so `swift test --filter ArmFirmwareParserTests` runs them all.
@Suite enum ArmFirmwareParserTests {}

extension ArmFirmwareParserTests {
    @Suite struct IORT {
        @Test func everyCaptureWithAnIORTIsCovered() throws {
            #expect(
                try ArmFirmware.captures(holding: ArmFirmware.tables + "IORT") == (ArmFirmware.smmuIORT + ArmFirmware.virtioACPI).sorted())
        }

        @Test(arguments: ArmFirmware.smmuIORT)
        func qemuSMMUv3TableDecodes(_ capture: String) throws {
            let table = try IORTTableParser.parse(try ArmFirmware.bytes(capture, ArmFirmware.tables + "IORT"))
            #expect(table.nodes.map(\.offset) == [0x30, 0x48, 0xa0])
            #expect(table.nodes.map(\.rawType) == [0, 4, 2])
            #expect(table.nodes[0].kind == .itsGroup && table.nodes[0].mappings.isEmpty)
            // The SMMUv3 at 0x9050000 sends every StreamID to the ITS group's DeviceIDs.
            #expect(table.nodes[1].kind == .smmuV3(base: 0x905_0000))
            #expect(table.nodes[1].revision == 4)
            #expect(
                table.nodes[1].mappings == [
                    IORTTable.IDMapping(inputBase: 0, idCount: 0xffff, outputBase: 0, outputReference: 0x30, flags: 0)
                ])
            // Segment 0's root complex: requester IDs 0x0000-0x0300 through the SMMU, the rest straight to the ITS.
            #expect(table.nodes[2].kind == .rootComplex(segment: 0))
            #expect(
                table.nodes[2].mappings == [
                    IORTTable.IDMapping(inputBase: 0, idCount: 0x300, outputBase: 0, outputReference: 0x48, flags: 0),
                    IORTTable.IDMapping(inputBase: 0x300, idCount: 0xfcff, outputBase: 0x300, outputReference: 0x30, flags: 0),
                ])
            #expect(table.node(at: 0x48)?.kind.isIOMMU == true)
            #expect(table.node(at: 0x30)?.kind.isIOMMU == false)
        }

        @Test(arguments: ArmFirmware.virtioACPI)
        func qemuVirtioIOMMUTableHasNoSMMU(_ capture: String) throws {
            let table = try IORTTableParser.parse(try ArmFirmware.bytes(capture, ArmFirmware.tables + "IORT"))
            #expect(table.nodes.map(\.offset) == [0x30, 0x48])
            #expect(table.nodes[0].kind == .itsGroup)
            #expect(table.nodes[1].kind == .rootComplex(segment: 0))
            #expect(
                table.nodes[1].mappings == [
                    IORTTable.IDMapping(inputBase: 0, idCount: 0xffff, outputBase: 0, outputReference: 0x30, flags: 0)
                ])
            #expect(!table.nodes.contains { $0.kind.isIOMMU })
        }

        @Test func namedComponentAndReservedMemoryDecode() throws {
            let smmu = ArmFirmware.iortNode(type: 4, revision: 4, data: ArmFirmware.le(0x2b40_0000, 8) + [UInt8](repeating: 0, count: 32))
            let nameData = ArmFirmware.le(0, 4) + ArmFirmware.le(0, 8) + [0x30] + Array("\\_SB_.DMA0".utf8) + [0, 0, 0]
            let named = ArmFirmware.iortNode(
                type: 1, data: nameData, mappings: [ArmFirmware.iortMapping(input: 0, count: 0, output: 0x20, reference: 48, flags: 1)])
            let rmr = ArmFirmware.iortNode(
                type: 6, revision: 3,
                data: ArmFirmware.rmrData(flags: 1, ranges: [(0x8000_0000, 0x1000), (UInt64.max, 1)]),
                mappings: [ArmFirmware.iortMapping(input: 0x20, count: 0, output: 0x20, reference: 48, flags: 1)])
            let table = try IORTTableParser.parse(ArmFirmware.iort([smmu, named, rmr]))
            #expect(table.nodes.map(\.offset) == [48, UInt32(48 + smmu.count), UInt32(48 + smmu.count + named.count)])
            #expect(table.nodes[0].kind == .smmuV3(base: 0x2b40_0000))
            #expect(table.nodes[1].kind == .namedComponent(name: "\\_SB_.DMA0"))
            #expect(table.nodes[1].mappings.first?.isSingleMapping == true)
            #expect(
                table.nodes[2].kind
                    == .reservedMemory(
                        remappingPermitted: true,
                        ranges: [
                            IORTTable.MemoryRange(base: 0x8000_0000, length: 0x1000), IORTTable.MemoryRange(base: UInt64.max, length: 1),
                        ]))
            #expect(
                table.nodes[2].mappings == [
                    IORTTable.IDMapping(inputBase: 0x20, idCount: 0, outputBase: 0x20, outputReference: 48, flags: 1)
                ])
        }

        @Test func hostileTablesAreRejected() throws {
            let real = try ArmFirmware.bytes(ArmFirmware.smmuIORT[0], ArmFirmware.tables + "IORT")
            #expect(real.count == 0xec)
            let rmr = { (ranges: [(base: UInt64, length: UInt64)]) in
                ArmFirmware.iort([ArmFirmware.iortNode(type: 6, data: ArmFirmware.rmrData(flags: 0, ranges: ranges))])
            }
            let rmrShort = ArmFirmware.iort([ArmFirmware.iortNode(type: 6, data: ArmFirmware.rmrData(flags: 0, ranges: []))])
            let hostile: [(String, [UInt8])] = [
                ("empty", []),
                ("truncated header", Array(real.prefix(47))),
                ("wrong signature", Array("VIOT".utf8) + real.dropFirst(4)),
                ("length past the file", ArmFirmware.patch(real, at: 4, UInt64(real.count + 1), 4)),
                ("length inside the header", ArmFirmware.patch(real, at: 4, 40, 4)),
                ("node array inside the header", ArmFirmware.patch(real, at: 40, 8, 4)),
                ("node array past the end", ArmFirmware.patch(real, at: 40, 0xe8, 4)),
                ("node count huge", ArmFirmware.patch(real, at: 36, 0xffff_ffff, 4)),
                ("node count past the nodes", ArmFirmware.patch(real, at: 36, 4096, 4)),
                ("node length 0", ArmFirmware.patch(real, at: 0x31, 0, 2)),
                ("node length below its header", ArmFirmware.patch(real, at: 0x31, 15, 2)),
                ("node past the end", ArmFirmware.patch(real, at: 0xa1, 0x4c + 4, 2)),
                ("length cut before the last node's end", ArmFirmware.patch(real, at: 4, 0xe8, 4)),
                ("mapping array past its node", ArmFirmware.patch(real, at: 0x48 + 12, 0x58, 4)),
                ("mapping array inside the node header", ArmFirmware.patch(real, at: 0x48 + 12, 4, 4)),
                ("mapping count past its node", ArmFirmware.patch(real, at: 0xa0 + 8, 3, 4)),
                ("mapping count huge", ArmFirmware.patch(real, at: 0xa0 + 8, 0xffff_ffff, 4)),
                ("SMMUv3 node without its base", ArmFirmware.iort([ArmFirmware.iortNode(type: 4, data: [0, 0, 0, 0])])),
                (
                    "root complex without its segment",
                    ArmFirmware.iort([ArmFirmware.iortNode(type: 2, data: [UInt8](repeating: 0, count: 12))])
                ),
                (
                    "named component without its fields",
                    ArmFirmware.iort([ArmFirmware.iortNode(type: 1, data: [UInt8](repeating: 0, count: 12))])
                ),
                ("RMR zero-length range", rmr([(0x8000_0000, 0x1000), (0x9000_0000, 0)])),
                ("RMR wrapping range", rmr([(0xffff_ffff_ffff_f000, 0x2000)])),
                ("RMR range past its node", ArmFirmware.patch(rmr([(0x8000_0000, 0x1000)]), at: 48 + 16 + 4, 2, 4)),
                ("RMR range offset inside the node header", ArmFirmware.patch(rmr([(0x8000_0000, 0x1000)]), at: 48 + 16 + 8, 8, 4)),
                ("RMR range count huge", ArmFirmware.patch(rmr([(0x8000_0000, 0x1000)]), at: 48 + 16 + 4, 0xffff_ffff, 4)),
                ("RMR without its fields", ArmFirmware.iort([ArmFirmware.iortNode(type: 6, data: [UInt8](repeating: 0, count: 8))])),
            ]
            for (name, bytes) in hostile {
                #expect(throws: ParseError.self, "\(name)") { try IORTTableParser.parse(bytes) }
            }
            // Each hostile table is one change from one that decodes: the checks above are not vacuous.
            #expect(try IORTTableParser.parse(real).nodes.count == 3)
            #expect(try IORTTableParser.parse(rmr([(0x8000_0000, 0x1000)])).nodes.count == 1)
            #expect(try IORTTableParser.parse(rmrShort).nodes.first?.kind == .reservedMemory(remappingPermitted: false, ranges: []))
        }

        @Test func randomMutationsNeverTrapOrHang() throws {
            let seed = try ArmFirmware.bytes(ArmFirmware.smmuIORT[0], ArmFirmware.tables + "IORT")
            ArmFirmware.mutate(seed, generatorSeed: 0x1047) { _ = try? IORTTableParser.parse($0) }
        }
    }

    @Suite struct VIOT {
        @Test func everyCaptureWithAVIOTIsCovered() throws {
            #expect(try ArmFirmware.captures(holding: ArmFirmware.tables + "VIOT") == ArmFirmware.virtioACPI)
        }

        @Test(arguments: ArmFirmware.virtioACPI)
        func qemuVIOTSendsTheRootBusToTheVirtioIOMMU(_ capture: String) throws {
            let table = try VIOTTableParser.parse(try ArmFirmware.bytes(capture, ArmFirmware.tables + "VIOT"))
            #expect(
                table.nodes == [
                    VIOTTable.Node(offset: 0x30, kind: .virtioIOMMUPCI(segment: 0, bdf: 0x0038)),
                    VIOTTable.Node(
                        offset: 0x40,
                        kind: .pciRange(endpointStart: 0, segmentStart: 0, segmentEnd: 0, bdfStart: 0, bdfEnd: 0x02ff, outputNode: 0x30)),
                ])
            #expect(table.node(at: 0x30)?.kind == .virtioIOMMUPCI(segment: 0, bdf: 0x0038))
        }

        @Test func hostileTablesAreRejected() throws {
            let real = try ArmFirmware.bytes(ArmFirmware.virtioACPI[0], ArmFirmware.tables + "VIOT")
            #expect(real.count == 0x58)
            // A first node of an unknown type long enough to put the second beyond offset 0xffff.
            let filler = [0xff, 0] + ArmFirmware.le(0xfffc, 2) + [UInt8](repeating: 0, count: 0xfffc - 4)
            let beyond16Bits = ArmFirmware.viot([filler, ArmFirmware.viotVirtioPCI(segment: 0, bdf: 8)])
            let hostile: [(String, [UInt8])] = [
                ("empty", []),
                ("truncated header", Array(real.prefix(47))),
                ("wrong signature", Array("IORT".utf8) + real.dropFirst(4)),
                ("length past the file", ArmFirmware.patch(real, at: 4, UInt64(real.count + 1), 4)),
                ("length inside the header", ArmFirmware.patch(real, at: 4, 36, 4)),
                ("node array inside the header", ArmFirmware.patch(real, at: 38, 4, 2)),
                ("node count huge", ArmFirmware.patch(real, at: 36, 0xffff, 2)),
                ("node count past the nodes", ArmFirmware.patch(real, at: 36, 3, 2)),
                ("node length 0", ArmFirmware.patch(real, at: 0x32, 0, 2)),
                ("node past the end", ArmFirmware.patch(real, at: 0x42, 0x1c, 2)),
                ("PCI range node too short", ArmFirmware.patch(real, at: 0x42, 12, 2)),
                ("virtio-iommu node too short", ArmFirmware.viot([[3, 0, 6, 0, 0, 0]])),
                // Shorter than the kernel's structs (acpi_viot_pci_range 24, acpi_viot_mmio 24,
                // acpi_viot_virtio_iommu_pci 16 bytes), though long enough for the fields read: viot.c refuses them.
                ("PCI range node of 20 bytes", ArmFirmware.patch(real, at: 0x42, 20, 2)),
                ("virtio-iommu PCI node of 12 bytes", ArmFirmware.viot([[3, 0, 12, 0, 0, 0, 0x38, 0, 0, 0, 0, 0]])),
                (
                    "MMIO endpoint node of 20 bytes",
                    ArmFirmware.viot([
                        [2, 0, 20, 0] + ArmFirmware.le(1, 4) + ArmFirmware.le(0xa00_0000, 8) + ArmFirmware.le(48, 2) + [0, 0]
                    ])
                ),
                ("PCI range ends before it starts", ArmFirmware.patch(real, at: 0x40 + 12, 0x0300, 2)),
                ("segment range ends before it starts", ArmFirmware.patch(real, at: 0x40 + 8, 1, 2)),
                ("node offset beyond 16 bits", beyond16Bits),
            ]
            for (name, bytes) in hostile {
                #expect(throws: ParseError.self, "\(name)") { try VIOTTableParser.parse(bytes) }
            }
            // One node fewer, and the same table decodes: the second node's offset is what was refused.
            #expect(try VIOTTableParser.parse(ArmFirmware.viot([filler])).nodes == [VIOTTable.Node(offset: 48, kind: .other(type: 0xff))])
            #expect(try VIOTTableParser.parse(real).nodes.count == 2)
        }

        @Test func handMadeRangesDecode() throws {
            let table = try VIOTTableParser.parse(
                ArmFirmware.viot([
                    ArmFirmware.viotVirtioPCI(segment: 1, bdf: 0x0108),
                    ArmFirmware.viotPCIRange(endpoint: 0x100, segments: (1, 1), bdfs: (0x0100, 0x01ff), output: 48),
                ]))
            #expect(
                table.nodes[1]
                    == VIOTTable.Node(
                        offset: 64,
                        kind: .pciRange(
                            endpointStart: 0x100, segmentStart: 1, segmentEnd: 1, bdfStart: 0x100, bdfEnd: 0x1ff, outputNode: 48)))
        }

        @Test func randomMutationsNeverTrapOrHang() throws {
            let seed = try ArmFirmware.bytes(ArmFirmware.virtioACPI[0], ArmFirmware.tables + "VIOT")
            ArmFirmware.mutate(seed, generatorSeed: 0x7107) { _ = try? VIOTTableParser.parse($0) }
        }
    }

    @Suite struct DeviceTreeProperty {
        static let iommuMap = "pcie@10000000/iommu-map"

        @Test func everyCaptureWithAnIOMMUMapIsCovered() throws {
            #expect(
                try ArmFirmware.captures(holding: ArmFirmware.deviceTree + Self.iommuMap)
                    == (ArmFirmware.smmuDT + ArmFirmware.virtioDT).sorted())
        }

        @Test(arguments: ArmFirmware.smmuDT)
        func smmuTreeRoutesEveryRequesterIDToTheSMMU(_ capture: String) throws {
            let base = ArmFirmware.deviceTree
            let map = try DeviceTreePropertyParser.iommuMap(try ArmFirmware.bytes(capture, base + Self.iommuMap))
            #expect(map == [DeviceTreeIOMMUs.IOMMUMapEntry(ridBase: 0, phandle: 0x8005, iommuBase: 0, length: 0x1_0000)])
            #expect(try DeviceTreePropertyParser.cell(try ArmFirmware.bytes(capture, base + "smmuv3@9050000/phandle")) == 0x8005)
            #expect(try DeviceTreePropertyParser.cell(try ArmFirmware.bytes(capture, base + "smmuv3@9050000/#iommu-cells")) == 1)
            #expect(
                try DeviceTreePropertyParser.strings(try ArmFirmware.bytes(capture, base + "smmuv3@9050000/compatible")) == ["arm,smmu-v3"])
            #expect(try DeviceTreePropertyParser.strings(try ArmFirmware.bytes(capture, base + "pcie@10000000/device_type")) == ["pci"])
            #expect(
                try DeviceTreePropertyParser.strings(try ArmFirmware.bytes(capture, base + "pcie@10000000/compatible")) == [
                    "pci-host-ecam-generic"
                ])
            #expect(try DeviceTreePropertyParser.cell(try ArmFirmware.bytes(capture, base + "pcie@10000000/linux,pci-domain")) == 0)
        }

        @Test(arguments: ArmFirmware.virtioDT)
        func virtioTreeSkipsTheVirtioIOMMUItself(_ capture: String) throws {
            let base = ArmFirmware.deviceTree
            let map = try DeviceTreePropertyParser.iommuMap(try ArmFirmware.bytes(capture, base + Self.iommuMap))
            // 00:00.0-00:06.7 and 00:07.1 on go to the virtio-iommu (phandle 0x8006); 00:07.0 is the virtio-iommu.
            #expect(
                map == [
                    DeviceTreeIOMMUs.IOMMUMapEntry(ridBase: 0, phandle: 0x8006, iommuBase: 0, length: 0x38),
                    DeviceTreeIOMMUs.IOMMUMapEntry(ridBase: 0x39, phandle: 0x8006, iommuBase: 0x39, length: 0xffc7),
                ])
            #expect(try DeviceTreePropertyParser.strings(try ArmFirmware.bytes(capture, base + "pcie@10000000/device_type")) == ["pci"])
        }

        @Test func cellsAndStringsDecode() throws {
            #expect(try DeviceTreePropertyParser.cells([0, 0, 0x80, 0x05, 0xde, 0xad, 0xbe, 0xef]) == [0x8005, 0xdead_beef])
            #expect(try DeviceTreePropertyParser.cells([]) == [])
            #expect(try DeviceTreePropertyParser.strings(Array("arm,smmu-v3\0arm,smmu\0".utf8)) == ["arm,smmu-v3", "arm,smmu"])
        }

        @Test func hostilePropertiesAreRejected() {
            let cells = { (count: Int) in [UInt8]((0..<(4 * count)).map { UInt8(truncatingIfNeeded: $0) }) }
            for bytes in [[0], [0, 0, 0], [0, 0, 0, 1, 0], cells(4) + [0], cells(1) + [0, 0, 0]] {
                #expect(throws: ParseError.self) { try DeviceTreePropertyParser.cells(bytes) }
                #expect(throws: ParseError.self) { try DeviceTreePropertyParser.cell(bytes) }
                #expect(throws: ParseError.self) { try DeviceTreePropertyParser.iommuMap(bytes) }
            }
            for bytes in [[], cells(2)] {
                #expect(throws: ParseError.self) { try DeviceTreePropertyParser.cell(bytes) }
            }
            for bytes in [[], cells(3), cells(5), cells(7), cells(9)] {
                #expect(throws: ParseError.self) { try DeviceTreePropertyParser.iommuMap(bytes) }
            }
            let strings: [[UInt8]] = [
                [], [0], Array("pci".utf8), Array("pci\0x".utf8), Array("pci\u{1b}[2J\0".utf8), Array("p\nci\0".utf8),
                Array("pci\0\0".utf8),
                Array("\0pci\0".utf8), Array("pci\u{7f}\0".utf8), Array("pcí\0".utf8),
            ]
            for bytes in strings {
                #expect(throws: ParseError.self, "\(bytes)") { try DeviceTreePropertyParser.strings(bytes) }
            }
        }

        @Test func wholeEntriesOnlyAreAccepted() throws {
            // The smallest change that makes each hostile iommu-map above valid decodes exactly.
            let entry: [UInt8] = [0, 0, 0, 8, 0, 0, 0x80, 6, 0, 0, 0, 8, 0, 0, 0, 1]
            let decoded = DeviceTreeIOMMUs.IOMMUMapEntry(ridBase: 8, phandle: 0x8006, iommuBase: 8, length: 1)
            #expect(try DeviceTreePropertyParser.iommuMap(entry + entry) == [decoded, decoded])
            #expect(throws: ParseError.self) { try DeviceTreePropertyParser.iommuMap(entry + entry.prefix(4)) }
            #expect(throws: ParseError.self) { try DeviceTreePropertyParser.iommuMap(Array(entry.prefix(12))) }
        }
    }
}
