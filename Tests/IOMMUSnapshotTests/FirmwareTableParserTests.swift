import Foundation
import IOMMUSnapshot
import Testing

/// Little-endian byte builders for hand-made ACPI tables (no real AMD capture has landed yet, and
/// hostile tables are made, not captured).
enum TableBytes {
    static func le(_ value: UInt64, _ count: Int) -> [UInt8] { (0..<count).map { UInt8((value >> (8 * UInt64($0))) & 0xff) } }

    /// A 36-byte ACPI header plus `fixed` bytes, with the length field covering `body`.
    static func table(_ signature: String, fixed: [UInt8], body: [UInt8]) -> [UInt8] {
        var bytes =
            Array(signature.utf8) + le(0, 4) + [1, 0] + Array("OEMID ".utf8) + Array("OEMTABLE".utf8) + le(1, 4) + Array("TEST".utf8)
            + le(1, 4)
        bytes += fixed + body
        bytes.replaceSubrange(4..<8, with: le(UInt64(bytes.count), 4))
        return bytes
    }

    static func dmar(_ structures: [UInt8]) -> [UInt8] {
        table("DMAR", fixed: [38, 1] + [UInt8](repeating: 0, count: 10), body: structures)
    }
    static func ivrs(_ blocks: [UInt8]) -> [UInt8] {
        table("IVRS", fixed: le(0x0020_3040, 4) + [UInt8](repeating: 0, count: 8), body: blocks)
    }

    static func rmrr(base: UInt64, limit: UInt64, scopes: [[UInt8]]) -> [UInt8] {
        let scopeBytes = scopes.flatMap { $0 }
        return le(1, 2) + le(UInt64(24 + scopeBytes.count), 2) + [0, 0] + le(0, 2) + le(base, 8) + le(limit, 8) + scopeBytes
    }

    static func scope(kind: UInt8, bus: UInt8, path: [(UInt8, UInt8)]) -> [UInt8] {
        [kind, UInt8(6 + 2 * path.count), 0, 0, 0, bus] + path.flatMap { [$0.0, $0.1] }
    }

    static func ivmd(type: UInt8, flags: UInt8, device: UInt16, aux: UInt16, start: UInt64, length: UInt64) -> [UInt8] {
        [type, flags] + le(32, 2) + le(UInt64(device), 2) + le(UInt64(aux), 2) + le(0, 8) + le(start, 8) + le(length, 8)
    }

    static func ivhd10(entries: [UInt8]) -> [UInt8] {
        [0x10, 0xb0] + le(UInt64(24 + entries.count), 2) + le(0x0002, 2) + le(0x40, 2) + le(0xfeb8_0000, 8) + le(0, 2) + le(0, 2) + le(0, 4)
            + entries
    }
}

@Suite struct DMARTableParserTests {
    @Test(arguments: ["linux-510-intel", "linux-61-intel", "linux-612-intel"])
    func qemuDMARHasOneUnitScopingEveryDevice(_ name: String) throws {
        let bytes = try #require(try Fixtures.read(name).firmware.dmar?.bytes)
        let table = try DMARTableParser.parse(bytes)
        #expect(table.units.count == 1)
        #expect(table.units.first?.registerBase == 0xfed9_0000)
        #expect(table.reservedMemory.isEmpty)
        // QEMU lists each root-bus function (endpoints) and the two bridges with their own scope.
        let scopes = try #require(table.units.first?.scopes)
        #expect(scopes.contains { $0.kind == .bridge && $0.path == [DMARTable.PathEntry(device: 5, function: 0)] })
        #expect(scopes.contains { $0.kind == .endpoint && $0.path == [DMARTable.PathEntry(device: 0x1f, function: 2)] })
    }

    @Test func rmrrWithTwoScopesDecodes() throws {
        let rmrr = TableBytes.rmrr(
            base: 0x7f00_0000, limit: 0x7f0f_ffff,
            scopes: [TableBytes.scope(kind: 1, bus: 0, path: [(0x14, 0)]), TableBytes.scope(kind: 2, bus: 0, path: [(0x1c, 0), (0, 0)])])
        let table = try DMARTableParser.parse(TableBytes.dmar(rmrr))
        #expect(table.reservedMemory.count == 1)
        #expect(table.reservedMemory[0].base == 0x7f00_0000 && table.reservedMemory[0].limit == 0x7f0f_ffff)
        #expect(table.reservedMemory[0].scopes.map(\.path.count) == [1, 2])
        #expect(table.hostAddressWidth == 38)
    }

    @Test func hostileTablesAreRejectedWithAReason() {
        let good = TableBytes.dmar(TableBytes.rmrr(base: 0, limit: 0xfff, scopes: [TableBytes.scope(kind: 1, bus: 0, path: [(2, 0)])]))
        var lengthPastEnd = good
        lengthPastEnd[4] = 0xff
        let zeroStructure = TableBytes.dmar(TableBytes.le(1, 2) + TableBytes.le(0, 2) + [UInt8](repeating: 0, count: 20))
        var scopeOverrun = good
        scopeOverrun[48 + 24 + 1] = 200
        let backwards = TableBytes.dmar(TableBytes.rmrr(base: 0x2000, limit: 0x1000, scopes: []))
        for bytes in [
            [], Array(good.prefix(47)), Array("XXXX".utf8) + good.dropFirst(4), lengthPastEnd, zeroStructure, scopeOverrun, backwards,
        ] {
            #expect(throws: ParseError.self) { try DMARTableParser.parse(bytes) }
        }
    }

    @Test func randomMutationsNeverTrapOrHang() {
        var generator = SplitMix(seed: 0x1234)
        let seed = TableBytes.dmar(TableBytes.rmrr(base: 0, limit: 0xfff, scopes: [TableBytes.scope(kind: 1, bus: 0, path: [(2, 0)])]))
        for _ in 0..<5000 {
            var bytes = seed
            for _ in 0..<Int(generator.next() % 6 + 1) {
                bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
            _ = try? DMARTableParser.parse(bytes)
        }
    }
}

@Suite struct IVRSTableParserTests {
    @Test func memoryDefinitionsAndAliasesDecode() throws {
        // Alias select: 0x0508 DMAs as 0x0500; alias range 0x0600…0x06ff as 0x0600 (end entry 0x04).
        let entries: [UInt8] =
            [0x42] + TableBytes.le(0x0508, 2) + [0, 0] + TableBytes.le(0x0500, 2) + [0]
            + [0x43] + TableBytes.le(0x0600, 2) + [0, 0] + TableBytes.le(0x0600, 2) + [0]
            + [0x04] + TableBytes.le(0x06ff, 2) + [0]
        let bytes = TableBytes.ivrs(
            TableBytes.ivhd10(entries: entries)
                + TableBytes.ivmd(type: 0x21, flags: 0x07, device: 0x00a0, aux: 0, start: 0x9d00_0000, length: 0x1000)
                + TableBytes.ivmd(type: 0x22, flags: 0x08, device: 0x0100, aux: 0x01ff, start: 0xa000_0000, length: 0x10_0000))
        let table = try IVRSTableParser.parse(bytes)
        #expect(
            table.hardware.first?.aliases == [
                IVRSTable.Alias(first: 0x0508, last: 0x0508, alias: 0x0500),
                IVRSTable.Alias(first: 0x0600, last: 0x06ff, alias: 0x0600),
            ])
        #expect(table.memory.map(\.isUnity) == [true, false])
        #expect(table.memory.map(\.isExclusion) == [false, true])
        #expect(table.memory[1].firstDevice == 0x0100 && table.memory[1].lastDevice == 0x01ff)
    }

    @Test func hostileTablesAreRejectedWithAReason() {
        let undefinedEntry = TableBytes.ivrs(TableBytes.ivhd10(entries: [0x90, 0, 0, 0]))
        let backwardsRange = TableBytes.ivrs(TableBytes.ivmd(type: 0x22, flags: 1, device: 0x200, aux: 0x100, start: 0, length: 0x1000))
        var shortIVMD = TableBytes.ivrs(TableBytes.ivmd(type: 0x20, flags: 1, device: 0, aux: 0, start: 0, length: 0x1000))
        shortIVMD[48 + 2] = 8
        let hidPastEnd = TableBytes.ivrs(TableBytes.ivhd10(entries: [0xf0] + [UInt8](repeating: 0, count: 20) + [200]))
        for bytes in [[], undefinedEntry, backwardsRange, shortIVMD, hidPastEnd, Array("DMAR".utf8) + undefinedEntry.dropFirst(4)] {
            #expect(throws: ParseError.self) { try IVRSTableParser.parse(bytes) }
        }
    }

    @Test func randomMutationsNeverTrapOrHang() {
        var generator = SplitMix(seed: 0xbeef)
        let seed = TableBytes.ivrs(
            TableBytes.ivhd10(entries: [0x02, 0x08, 0, 0, 0x42, 0x08, 0x05, 0, 0, 0, 0x05, 0])
                + TableBytes.ivmd(type: 0x21, flags: 0x07, device: 0x00a0, aux: 0, start: 0x9d00_0000, length: 0x1000))
        for _ in 0..<5000 {
            var bytes = seed
            for _ in 0..<Int(generator.next() % 6 + 1) {
                bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
            _ = try? IVRSTableParser.parse(bytes)
        }
    }
}

/// A small deterministic generator so mutation runs repeat exactly.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
