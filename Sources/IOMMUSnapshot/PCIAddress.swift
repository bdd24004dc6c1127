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
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let devfn = parts[2].split(separator: ".", omittingEmptySubsequences: false)
        guard devfn.count == 2,
              parts[0].count >= 4, parts[0].count <= 8, parts[1].count == 2,
              devfn[0].count == 2, devfn[1].count == 1,
              let domain = UInt32(parts[0], radix: 16),
              let bus = UInt8(parts[1], radix: 16),
              let device = UInt8(devfn[0], radix: 16), device < 32,
              let function = UInt8(devfn[1], radix: 16), function < 8
        else { return nil }
        self.init(domain: domain, bus: bus, device: device, function: function)
    }

    /// `0000:00:1f.2`
    public var description: String {
        hex(UInt64(domain), width: 4) + ":" + hex(UInt64(bus), width: 2) + ":" + hex(UInt64(device), width: 2) + "." + hex(UInt64(function), width: 1)
    }

    /// The slot without its function: `0000:00:1f`.
    public var slot: String {
        hex(UInt64(domain), width: 4) + ":" + hex(UInt64(bus), width: 2) + ":" + hex(UInt64(device), width: 2)
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

/// Lower-case hex, zero-padded to at least `width` digits (the kernel's `%0Nx`).
@inlinable
public func hex(_ value: UInt64, width: Int) -> String {
    let digits = String(value, radix: 16)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
