/// AMD's I/O Virtualization Reporting Structure (`sys/firmware/acpi/tables/IVRS`), decoded as far as
/// the model needs: hardware definitions (IVHD) with their alias entries, and memory definitions (IVMD).
///
/// Layout from the AMD I/O Virtualization Technology specification (48882) §5 and the kernel's
/// `drivers/iommu/amd/init.c` (`struct ivhd_header`, `ivhd_entry`, `ivmd_header`, `ivhd_entry_length()`).
public struct IVRSTable: Sendable, Hashable {
    /// IVinfo (byte 36).
    public var info: UInt32
    public var hardware: [HardwareDefinition]
    public var memory: [MemoryDefinition]

    public init(info: UInt32, hardware: [HardwareDefinition], memory: [MemoryDefinition]) {
        self.info = info
        self.hardware = hardware
        self.memory = memory
    }

    /// An IVHD block (types 0x10, 0x11, 0x40): one IOMMU and the devices it covers.
    public struct HardwareDefinition: Sendable, Hashable {
        public var type: UInt8
        public var flags: UInt8
        /// The IOMMU's own requester id.
        public var deviceID: UInt16
        public var segment: UInt16
        public var registerBase: UInt64
        /// Requester ids that DMA on behalf of others (entries 0x42, 0x43…0x04): `source` range → `alias`.
        /// The kernel turns these into PCI DMA aliases, so the devices share a group.
        public var aliases: [Alias]

        public init(type: UInt8, flags: UInt8, deviceID: UInt16, segment: UInt16, registerBase: UInt64, aliases: [Alias]) {
            self.type = type
            self.flags = flags
            self.deviceID = deviceID
            self.segment = segment
            self.registerBase = registerBase
            self.aliases = aliases
        }
    }

    public struct Alias: Sendable, Hashable {
        public var first: UInt16
        public var last: UInt16
        public var alias: UInt16
        public init(first: UInt16, last: UInt16, alias: UInt16) {
            self.first = first
            self.last = last
            self.alias = alias
        }
    }

    /// An IVMD block (types 0x20 all devices, 0x21 one device, 0x22 a range): memory the firmware
    /// needs mapped 1:1 (unity) or kept out of translation (exclusion).
    public struct MemoryDefinition: Sendable, Hashable {
        public var type: UInt8
        public var flags: UInt8
        /// Requester ids it applies to (all of them for type 0x20).
        public var firstDevice: UInt16
        public var lastDevice: UInt16
        public var segment: UInt16
        public var start: UInt64
        public var length: UInt64

        public init(type: UInt8, flags: UInt8, firstDevice: UInt16, lastDevice: UInt16, segment: UInt16, start: UInt64, length: UInt64) {
            self.type = type
            self.flags = flags
            self.firstDevice = firstDevice
            self.lastDevice = lastDevice
            self.segment = segment
            self.start = start
            self.length = length
        }

        /// IVMD_FLAG_UNITY_MAP
        public var isUnity: Bool { flags & 0x01 != 0 }
        /// IVMD_FLAG_EXCL_RANGE
        public var isExclusion: Bool { flags & 0x08 != 0 }
    }
}

public enum IVRSTableParser {
    static let headerLength = 48
    static let maximumBlocks = 4096
    static let maximumEntries = 65536

    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> IVRSTable {
        let reader = ACPIReader(bytes)
        try reader.expectSignature("IVRS", minimumLength: headerLength)
        let end = try reader.declaredLength(minimum: headerLength)
        var hardware: [IVRSTable.HardwareDefinition] = []
        var memory: [IVRSTable.MemoryDefinition] = []
        var offset = headerLength
        var count = 0
        while offset < end {
            count += 1
            guard count <= maximumBlocks else { throw ParseError("more than \(maximumBlocks) IVRS blocks") }
            guard offset + 4 <= end else { throw ParseError("block header at \(offset) runs past the table end \(end)") }
            let type = bytes[offset]
            let length = Int(reader.u16(offset + 2))
            guard length >= 4, offset + length <= end else {
                throw ParseError("block at \(offset) has length \(length), past the table end \(end)")
            }
            switch type {
            case 0x10, 0x11, 0x40:
                let entriesStart = type == 0x10 ? 24 : 40
                guard length >= entriesStart else {
                    throw ParseError(
                        "IVHD type 0x\(Hex.string(UInt64(type), width: 2)) at \(offset) is \(length) bytes; at least \(entriesStart)")
                }
                hardware.append(
                    IVRSTable.HardwareDefinition(
                        type: type, flags: bytes[offset + 1], deviceID: reader.u16(offset + 4), segment: reader.u16(offset + 16),
                        registerBase: reader.u64(offset + 8),
                        aliases: try aliases(reader, from: offset + entriesStart, to: offset + length)))
            case 0x20, 0x21, 0x22:
                guard length >= 32 else { throw ParseError("IVMD at \(offset) is \(length) bytes; 32 expected") }
                let device = reader.u16(offset + 4), aux = reader.u16(offset + 6)
                let (first, last): (UInt16, UInt16) =
                    switch type {
                    case 0x20: (0, 0xffff)
                    case 0x21: (device, device)
                    default: (device, aux)
                    }
                guard first <= last else { throw ParseError("IVMD at \(offset) has its device range backwards") }
                memory.append(
                    IVRSTable.MemoryDefinition(
                        type: type, flags: bytes[offset + 1], firstDevice: first, lastDevice: last, segment: reader.u16(offset + 8),
                        start: reader.u64(offset + 16), length: reader.u64(offset + 24)))
            default:
                break
            }
            offset += length
        }
        return IVRSTable(info: reader.u32(36), hardware: hardware, memory: memory)
    }

    /// Walks IVHD device entries (`ivhd_entry_length()`: 4 << (type >> 6) below 0x80, 22 + uid length
    /// for ACPI HID 0xf0) and keeps the alias ones.
    static func aliases(_ reader: ACPIReader, from start: Int, to end: Int) throws(ParseError) -> [IVRSTable.Alias] {
        let bytes = reader.bytes
        var result: [IVRSTable.Alias] = []
        var pendingRangeStart: (device: UInt16, alias: UInt16?)?
        var offset = start
        var count = 0
        while offset < end {
            count += 1
            guard count <= maximumEntries else { throw ParseError("more than \(maximumEntries) IVHD entries") }
            let type = bytes[offset]
            let length: Int
            if type < 0x80 {
                length = 4 << Int(type >> 6)
            } else if type == 0xf0 {
                guard offset + 22 <= end else { throw ParseError("ACPI HID entry at \(offset) is cut short") }
                length = 22 + Int(bytes[offset + 21])
            } else {
                throw ParseError("IVHD entry type 0x\(Hex.string(UInt64(type), width: 2)) at \(offset) has no defined length")
            }
            guard offset + length <= end else { throw ParseError("IVHD entry at \(offset) runs past its block") }
            let device = reader.u16(offset + 1)
            switch type {
            case 0x42:  // alias select
                result.append(IVRSTable.Alias(first: device, last: device, alias: reader.u16(offset + 5)))
            case 0x03, 0x47:  // start of range (plain, extended)
                pendingRangeStart = (device, nil)
            case 0x43:  // alias start of range
                pendingRangeStart = (device, reader.u16(offset + 5))
            case 0x04:  // end of range
                if let start = pendingRangeStart, let alias = start.alias, start.device <= device {
                    result.append(IVRSTable.Alias(first: start.device, last: device, alias: alias))
                }
                pendingRangeStart = nil
            default:
                break
            }
            offset += length
        }
        return result
    }
}
