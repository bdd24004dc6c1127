/// Shared checks for sysfs text attributes: one value, printed by the kernel with a trailing newline.
enum SysfsText {
    /// The content as one line of printable ASCII without its newline; rejects NUL bytes, control
    /// bytes, non-ASCII and more than one line — none of which a kernel attribute prints.
    static func singleLine(_ bytes: [UInt8]) throws(ParseError) -> Substring {
        guard !bytes.isEmpty else { throw ParseError("empty file") }
        var end = bytes.count
        if bytes[end - 1] == 0x0a { end -= 1 }
        for index in 0..<end {
            let byte = bytes[index]
            if byte == 0 { throw ParseError("contains a NUL byte at offset \(index)") }
            if byte == 0x0a { throw ParseError("more than one line") }
            if byte < 0x20 && byte != 0x09 || byte >= 0x7f {
                throw ParseError("unexpected byte 0x\(Hex.string(UInt64(byte), width: 2)) at offset \(index)")
            }
        }
        guard end > 0 else { throw ParseError("empty value") }
        return Substring(decoding: bytes[0..<end], as: UTF8.self)
    }

    /// Printable text of several lines (cmdline, version, iomem); NUL bytes are an error.
    static func text(_ bytes: [UInt8]) throws(ParseError) -> String {
        if let nul = bytes.firstIndex(of: 0) { throw ParseError("contains a NUL byte at offset \(nul)") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw ParseError("not valid UTF-8") }
        return text
    }
}
