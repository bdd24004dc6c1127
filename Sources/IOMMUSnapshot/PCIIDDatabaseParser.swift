/// The PCI ID database (`pci.ids`, from Debian's `pci.ids` or `hwdata` package) in the format of
/// pci-ids.ucw.cz: `vvvv  Vendor` at the start of a line, `<TAB>dddd  Device` below it, subsystems
/// on two tabs, then the `C cc  Class` section. Only the names of the wanted ids are kept, so a
/// 1.4 MB file costs a few entries of memory.
public enum PCIIDDatabaseParser {
    public static func parse(_ bytes: [UInt8], wanted: Set<PCIIDs>) throws(ParseError) -> PCINames {
        let vendors = Set(wanted.map(\.vendor))
        var names = PCINames()
        var vendor: UInt16?
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0a) ?? bytes.count
            lineNumber += 1
            let line = bytes[start..<end]
            start = end + 1
            guard let first = line.first, first != UInt8(ascii: "#") else { continue }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { continue }
            if first == UInt8(ascii: "C") && line.dropFirst().first == 0x20 { break }  // the class section: done
            let tabs = line.prefix { $0 == 0x09 }.count
            let body = line.dropFirst(tabs)
            switch tabs {
            case 0:
                let (id, name) = try entry(body, line: lineNumber)
                vendor = id
                if vendors.contains(id) { names.vendors[id] = name }
            case 1:
                guard let current = vendor else { throw ParseError("line \(lineNumber): a device before any vendor") }
                guard vendors.contains(current) else { continue }
                let (id, name) = try entry(body, line: lineNumber)
                if wanted.contains(PCIIDs(vendor: current, device: id)) { names.devices[PCIIDs(vendor: current, device: id)] = name }
            case 2:
                continue
            default:
                throw ParseError("line \(lineNumber): more than two tabs")
            }
        }
        return names
    }

    /// `8086  Intel Corporation`: four hex digits, two spaces, a name of printable UTF-8.
    static func entry(_ body: ArraySlice<UInt8>, line: Int) throws(ParseError) -> (UInt16, String) {
        let digits = body.prefix(4)
        guard digits.count == 4, let id = UInt16(String(decoding: digits, as: UTF8.self), radix: 16),
            body.dropFirst(4).prefix(2).elementsEqual([0x20, 0x20])
        else { throw ParseError("line \(line): not an id entry (four hex digits, two spaces, a name)") }
        var name = body.dropFirst(6)
        while let last = name.last, last == 0x0d || last == 0x20 { name = name.dropLast() }
        guard !name.isEmpty, name.count <= 512, let text = String(validating: name, as: UTF8.self) else {
            throw ParseError("line \(line): the name is empty, longer than 512 bytes or not UTF-8")
        }
        return (id, text)
    }
}

/// A vendor and device id pair.
public struct PCIIDs: Sendable, Hashable {
    public var vendor: UInt16
    public var device: UInt16

    public init(vendor: UInt16, device: UInt16) {
        self.vendor = vendor
        self.device = device
    }
}

/// Names from the PCI ID database, for the ids that were asked for.
public struct PCINames: Sendable, Hashable {
    public var vendors: [UInt16: String] = [:]
    public var devices: [PCIIDs: String] = [:]

    public init() {}

    /// `NVIDIA Corporation GA104 [GeForce RTX 3060]`, as `lspci` prints it; the vendor alone when the
    /// device is not listed; nil when neither is.
    public func name(vendor: UInt16, device: UInt16) -> String? {
        guard let vendorName = vendors[vendor] else { return nil }
        guard let deviceName = devices[PCIIDs(vendor: vendor, device: device)] else {
            return vendorName + " Device " + Hex.string(UInt64(device), width: 4)
        }
        return vendorName + " " + deviceName
    }
}
