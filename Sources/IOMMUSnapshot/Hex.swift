/// Hexadecimal digits as the kernel prints them, both ways: the one decoder of the parsers
/// (`PCIAddress`, `ReservedRegionsParser`) and the one encoder of every renderer (the kernel's `%0Nx`).
public enum Hex {
    /// The value of one ASCII hex digit; upper-case letters only when `upperCase` allows them.
    @inline(__always)
    static func digit(_ byte: UInt8, upperCase: Bool) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        case 0x41...0x46 where upperCase: byte - 0x41 + 10
        default: nil
        }
    }

    /// The value of `digits` (no prefix, at most 16 of them), or nil when one is not a hex digit.
    static func value<Digits: Sequence<UInt8>>(_ digits: Digits, upperCase: Bool) -> UInt64? {
        var value: UInt64 = 0
        for byte in digits {
            guard let digit = digit(byte, upperCase: upperCase) else { return nil }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    /// Lower-case hex, zero-padded to at least `width` digits (the kernel's `%0Nx`).
    public static func string(_ value: UInt64, width: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(max(width, 16))
        append(value, width: width, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `value` as lower-case hex, zero-padded to at least `width` digits.
    static func append(_ value: UInt64, width: Int, to bytes: inout [UInt8]) {
        let digits = value == 0 ? 1 : (64 - value.leadingZeroBitCount + 3) / 4
        let count = max(digits, width)
        for shift in stride(from: (count - 1) * 4, through: 0, by: -4) {
            let nibble = UInt8(truncatingIfNeeded: shift >= 64 ? 0 : value >> UInt64(shift)) & 0x0f
            bytes.append(nibble < 10 ? 0x30 + nibble : 0x57 + nibble)
        }
    }
}
