/// A PCI function address as the kernel names it: `dddd:bb:dd.f`.
/// The domain is 32 bits wide because Intel VMD places its child buses in domains above 0xffff
/// (`10000:e1:00.0`); the kernel prints it with `%04x`, so such domains take five digits.
public struct PCIAddress: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var domain: UInt32
    public var bus: UInt8
    public var device: UInt8
    public var function: UInt8

    public init(domain: UInt32, bus: UInt8, device: UInt8, function: UInt8) {
        self.domain = domain
        self.bus = bus
        self.device = device
        self.function = function
    }

    /// Parses `dddd:bb:dd.f` exactly (the kernel's `dev_name()` for PCI); anything else is nil.
    /// Works on UTF-8 bytes: the reader calls it for every path component it meets.
    public init?(_ text: some StringProtocol) {
        var result: PCIAddress?
        var copy = String(text)
        copy.withUTF8 { bytes in result = PCIAddress(utf8: bytes) }
        guard let result else { return nil }
        self = result
    }

    init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        // domain (4–8 hex) ':' bus (2) ':' device (2) '.' function (1)
        let count = bytes.count
        guard count >= 12, count <= 16 else { return nil }
        let domainLength = count - 8
        guard bytes[domainLength] == 0x3a, bytes[domainLength + 3] == 0x3a, bytes[domainLength + 6] == 0x2e else { return nil }
        func hexValue(_ range: Range<Int>) -> UInt32? {
            Hex.value(bytes[range], upperCase: true).map(UInt32.init)
        }
        guard let domain = hexValue(0..<domainLength),
            let bus = hexValue(domainLength + 1..<domainLength + 3),
            let device = hexValue(domainLength + 4..<domainLength + 6), device < 32,
            let function = hexValue(domainLength + 7..<domainLength + 8), function < 8
        else { return nil }
        self.init(domain: domain, bus: UInt8(bus), device: UInt8(device), function: UInt8(function))
    }

    /// `0000:00:1f.2`
    public var description: String {
        // Built byte by byte: it is printed for every device of every scan.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        Hex.append(UInt64(domain), width: 4, to: &bytes)
        bytes.append(0x3a)
        Hex.append(UInt64(bus), width: 2, to: &bytes)
        bytes.append(0x3a)
        Hex.append(UInt64(device), width: 2, to: &bytes)
        bytes.append(0x2e)
        Hex.append(UInt64(function), width: 1, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The slot without its function: `0000:00:1f`.
    public var slot: String {
        Hex.string(UInt64(domain), width: 4) + ":" + Hex.string(UInt64(bus), width: 2) + ":" + Hex.string(UInt64(device), width: 2)
    }

    /// Same domain, bus and device number: functions of one physical slot.
    public func sharesSlot(with other: PCIAddress) -> Bool {
        domain == other.domain && bus == other.bus && device == other.device
    }

    /// The 16-bit requester ID (bus << 8 | devfn) DMA is tagged with.
    public var requesterID: UInt16 { UInt16(bus) << 8 | UInt16(device) << 3 | UInt16(function) }

    public static func < (lhs: PCIAddress, rhs: PCIAddress) -> Bool {
        (lhs.domain, lhs.bus, lhs.device, lhs.function) < (rhs.domain, rhs.bus, rhs.device, rhs.function)
    }
}
