/// Intel's ACPI DMA Remapping table (`sys/firmware/acpi/tables/DMAR`), decoded as far as the model
/// needs: remapping units (DRHD) with their scopes, and reserved memory regions (RMRR) with theirs.
///
/// Layout from the VT-d specification §8 and the kernel's `include/acpi/actbl1.h`
/// (`struct acpi_table_dmar`, `acpi_dmar_hardware_unit`, `acpi_dmar_reserved_memory`,
/// `acpi_dmar_device_scope`), walked the way `dmar_walk_remapping_entries()` does.
public struct DMARTable: Sendable, Hashable {
    /// Byte 36: host address width minus one.
    public var hostAddressWidth: Int
    /// Byte 37: bit 0 INTR_REMAP, bit 1 X2APIC_OPT_OUT, bit 2 DMA_CTRL_PLATFORM_OPT_IN.
    public var flags: UInt8
    public var units: [Unit]
    public var reservedMemory: [ReservedMemory]

    public init(hostAddressWidth: Int, flags: UInt8, units: [Unit], reservedMemory: [ReservedMemory]) {
        self.hostAddressWidth = hostAddressWidth
        self.flags = flags
        self.units = units
        self.reservedMemory = reservedMemory
    }

    /// DMA_CTRL_PLATFORM_OPT_IN_FLAG: firmware asks the OS to keep DMA remapping on for external ports.
    public var platformOptIn: Bool { flags & 0x04 != 0 }

    /// A DRHD: one remapping unit.
    public struct Unit: Sendable, Hashable {
        /// Bit 0 INCLUDE_PCI_ALL: the unit covers every PCI device of its segment not claimed by another.
        public var flags: UInt8
        public var segment: UInt16
        public var registerBase: UInt64
        public var scopes: [DeviceScope]
        public var includesAllPCI: Bool { flags & 0x01 != 0 }

        public init(flags: UInt8, segment: UInt16, registerBase: UInt64, scopes: [DeviceScope]) {
            self.flags = flags
            self.segment = segment
            self.registerBase = registerBase
            self.scopes = scopes
        }
    }

    /// An RMRR: memory firmware keeps using for DMA after boot (USB legacy emulation, graphics stolen
    /// memory, BMC buffers); the kernel identity-maps it for the devices in its scope.
    public struct ReservedMemory: Sendable, Hashable {
        public var segment: UInt16
        public var base: UInt64
        /// Inclusive end (the table's "limit").
        public var limit: UInt64
        public var scopes: [DeviceScope]

        public init(segment: UInt16, base: UInt64, limit: UInt64, scopes: [DeviceScope]) {
            self.segment = segment
            self.base = base
            self.limit = limit
            self.scopes = scopes
        }
    }

    /// One device scope entry: a path from a start bus through (device, function) hops.
    public struct DeviceScope: Sendable, Hashable {
        public enum Kind: UInt8, Sendable, Hashable {
            case endpoint = 1
            case bridge = 2
            case ioapic = 3
            case hpet = 4
            case acpiNamespaceDevice = 5
        }
        /// nil for a type the specification reserves.
        public var kind: Kind?
        public var rawKind: UInt8
        public var enumerationID: UInt8
        public var startBus: UInt8
        /// (device, function) per hop; the first is on `startBus`, each next one behind the previous bridge.
        public var path: [PathEntry]

        public init(rawKind: UInt8, enumerationID: UInt8, startBus: UInt8, path: [PathEntry]) {
            self.rawKind = rawKind
            self.kind = Kind(rawValue: rawKind)
            self.enumerationID = enumerationID
            self.startBus = startBus
            self.path = path
        }
    }

    public struct PathEntry: Sendable, Hashable {
        public var device: UInt8
        public var function: UInt8
        public init(device: UInt8, function: UInt8) {
            self.device = device
            self.function = function
        }
    }
}

public enum DMARTableParser {
    static let headerLength = 48
    /// A real table has tens of structures; a hostile one cannot make us loop longer than this.
    static let maximumStructures = 4096
    static let maximumScopes = 4096

    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> DMARTable {
        let reader = ACPIReader(bytes)
        try reader.expectSignature("DMAR", minimumLength: headerLength)
        let end = try reader.declaredLength(minimum: headerLength)
        let width = Int(bytes[36])
        let flags = bytes[37]
        var units: [DMARTable.Unit] = []
        var reserved: [DMARTable.ReservedMemory] = []
        var offset = headerLength
        var count = 0
        while offset < end {
            count += 1
            guard count <= maximumStructures else { throw ParseError("more than \(maximumStructures) remapping structures") }
            guard offset + 4 <= end else { throw ParseError("remapping structure header at \(offset) runs past the table end \(end)") }
            let type = reader.u16(offset)
            let length = Int(reader.u16(offset + 2))
            guard length >= 4, offset + length <= end else {
                throw ParseError("remapping structure at \(offset) has length \(length), past the table end \(end)")
            }
            switch type {
            case 0:  // DRHD: flags, size, segment, register base, scopes from 16.
                guard length >= 16 else { throw ParseError("DRHD at \(offset) is \(length) bytes; at least 16") }
                units.append(
                    DMARTable.Unit(
                        flags: bytes[offset + 4], segment: reader.u16(offset + 6), registerBase: reader.u64(offset + 8),
                        scopes: try scopes(bytes, from: offset + 16, to: offset + length)))
            case 1:  // RMRR: reserved, segment, base, limit, scopes from 24.
                guard length >= 24 else { throw ParseError("RMRR at \(offset) is \(length) bytes; at least 24") }
                let base = reader.u64(offset + 8), limit = reader.u64(offset + 16)
                guard base <= limit else {
                    throw ParseError(
                        "RMRR at \(offset) ends (\(Hex.string(limit, width: 1))) before it starts (\(Hex.string(base, width: 1)))")
                }
                reserved.append(
                    DMARTable.ReservedMemory(
                        segment: reader.u16(offset + 6), base: base, limit: limit,
                        scopes: try scopes(bytes, from: offset + 24, to: offset + length)))
            default:
                break  // ATSR, RHSA, ANDD, SATC, SIDP: nothing the model uses.
            }
            offset += length
        }
        return DMARTable(hostAddressWidth: width, flags: flags, units: units, reservedMemory: reserved)
    }

    /// Device scope entries between `start` and `end`: type, length, flags, reserved, enumeration id,
    /// start bus, then 2-byte path entries (`dmar_alloc_dev_scope` / `dmar_insert_dev_scope`).
    static func scopes(_ bytes: [UInt8], from start: Int, to end: Int) throws(ParseError) -> [DMARTable.DeviceScope] {
        var result: [DMARTable.DeviceScope] = []
        var offset = start
        while offset < end {
            guard result.count < maximumScopes else { throw ParseError("more than \(maximumScopes) device scopes") }
            guard offset + 6 <= end else { throw ParseError("device scope at \(offset) is cut short") }
            let length = Int(bytes[offset + 1])
            guard length >= 6, offset + length <= end, (length - 6) % 2 == 0 else {
                throw ParseError("device scope at \(offset) has length \(length)")
            }
            var path: [DMARTable.PathEntry] = []
            var hop = offset + 6
            while hop + 1 < offset + length {
                path.append(DMARTable.PathEntry(device: bytes[hop], function: bytes[hop + 1]))
                hop += 2
            }
            result.append(
                DMARTable.DeviceScope(rawKind: bytes[offset], enumerationID: bytes[offset + 4], startBus: bytes[offset + 5], path: path))
            offset += length
        }
        return result
    }
}

/// Little-endian reads within an ACPI table whose bounds were checked by the caller.
struct ACPIReader {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Checks the 4-byte signature and that the header fits.
    func expectSignature(_ signature: String, minimumLength: Int) throws(ParseError) {
        guard bytes.count >= minimumLength else {
            throw ParseError("\(bytes.count) bytes; a \(signature) table has at least \(minimumLength)")
        }
        guard Array(signature.utf8) == Array(bytes[0..<4]) else { throw ParseError("signature is not \(signature)") }
    }

    /// The header's length field, which must cover the fixed header and fit the bytes we have.
    func declaredLength(minimum: Int) throws(ParseError) -> Int {
        let length = Int(u32(4))
        guard length <= bytes.count else { throw ParseError("header says \(length) bytes, the file has \(bytes.count)") }
        guard length >= minimum else { throw ParseError("header says \(length) bytes, shorter than the fixed header (\(minimum))") }
        return length
    }

    func u16(_ offset: Int) -> UInt16 { UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }
    func u32(_ offset: Int) -> UInt32 { UInt32(u16(offset)) | UInt32(u16(offset + 2)) << 16 }
    func u64(_ offset: Int) -> UInt64 { UInt64(u32(offset)) | UInt64(u32(offset + 4)) << 32 }
}
