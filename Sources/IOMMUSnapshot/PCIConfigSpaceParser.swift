public enum PCIConfigSpaceParser {
    static let capabilitiesListStatusBit: UInt8 = 0x10
    static let expressCapabilityID: UInt8 = 0x10
    static let acsExtendedCapabilityID: UInt16 = 0x000d

    /// Decodes header type, the PCIe capability and the ACS extended capability.
    /// Loops are bounded (a hostile list can point at itself), pointers are range-checked.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> PCIConfigSpace {
        guard bytes.count >= 64 else { throw ParseError("config space is \(bytes.count) bytes; the header alone is 64") }
        guard bytes.count <= 4096 else { throw ParseError("config space is \(bytes.count) bytes; PCIe has at most 4096") }
        let vendor = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
        guard vendor != 0xffff, vendor != 0 else {
            throw ParseError(String(format16: vendor, prefix: "vendor id ") + " in config space means no function answered")
        }
        let headerType = bytes[0x0e]
        let layout = headerType & 0x7f
        var express: PCIExpressCapability?
        if bytes.count >= 256, bytes[0x06] & capabilitiesListStatusBit != 0 {
            let listStart = layout == 2 ? 0x14 : 0x34
            var pointer = Int(bytes[listStart] & 0xfc)
            var steps = 0
            while pointer >= 0x40, pointer + 3 < 256, steps < 48 {
                if bytes[pointer] == expressCapabilityID {
                    express = PCIExpressCapability(rawPortType: (bytes[pointer + 2] >> 4) & 0x0f)
                    break
                }
                pointer = Int(bytes[pointer + 1] & 0xfc)
                steps += 1
            }
        }
        var acs: ACSCapability?
        if bytes.count >= 4096, express != nil {
            var offset = 0x100
            var steps = 0
            while offset >= 0x100, offset + 8 <= bytes.count, steps < 960 {
                let header =
                    UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3])
                    << 24
                if header == 0 || header == 0xffff_ffff { break }
                if UInt16(header & 0xffff) == acsExtendedCapabilityID {
                    acs = ACSCapability(
                        capability: UInt16(bytes[offset + 4]) | UInt16(bytes[offset + 5]) << 8,
                        control: UInt16(bytes[offset + 6]) | UInt16(bytes[offset + 7]) << 8)
                    break
                }
                offset = Int((header >> 20) & 0xffc)
                steps += 1
            }
        }
        return PCIConfigSpace(
            length: bytes.count, headerLayout: layout, isMultifunction: headerType & 0x80 != 0, express: express, acs: acs)
    }
}
