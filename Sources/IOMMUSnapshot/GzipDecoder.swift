import CLinux

/// gzip, as `/proc/config.gz` (CONFIG_IKCONFIG_PROC) is stored: inflated by zlib, bounded.
public enum GzipDecoder {
    /// A kernel configuration is about 250 KiB; anything expanding past this is not one.
    public static let outputLimit = 8 << 20

    public static func decompress(_ bytes: [UInt8], limit: Int = outputLimit) throws(ParseError) -> [UInt8] {
        guard bytes.count >= 18, bytes[0] == 0x1f, bytes[1] == 0x8b else { throw ParseError("not gzip data (no 1f 8b header)") }
        // The trailer's ISIZE (the inflated size mod 2^32) sizes the buffer, so a 250 KiB config costs
        // 250 KiB and not the whole limit on every rescan. It is only a hint: hostile input may lie,
        // so the buffer doubles up to `limit` while zlib says it is too small (at most 2 × limit of work).
        let trailer = bytes.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        var capacity = max(1, min(limit, max(4096, trailer)))
        var output: [UInt8] = []
        var written = 0
        var status: Int32
        repeat {
            output = [UInt8](repeating: 0, count: capacity)
            status = bytes.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { out in
                    iw_gunzip(input.baseAddress, input.count, out.baseAddress, out.count, &written)
                }
            }
            if Int(status) == Int(IW_GUNZIP_TOO_LARGE), capacity < limit { capacity = min(limit, capacity * 2) } else { break }
        } while true
        switch Int(status) {
        case Int(IW_GUNZIP_OK): return Array(output[0..<written])
        case Int(IW_GUNZIP_TOO_LARGE): throw ParseError("expands past \(limit) bytes")
        case Int(IW_GUNZIP_TRUNCATED): throw ParseError("gzip data is truncated")
        case Int(IW_GUNZIP_TRAILING): throw ParseError("data after the end of the gzip stream")
        default: throw ParseError("gzip data is corrupt")
        }
    }
}
