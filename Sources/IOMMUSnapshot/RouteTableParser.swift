/// `proc/net/route`: the IPv4 routing table, a header then one route a line, tab-separated, addresses
/// as little-endian hex (`eth0	00000000	0102A8C0	0003	0	0	100	00000000	0	0	0`).
public enum RouteTableParser {
    static let lineLimit = 1_000_000
    static let up: UInt32 = 0x1

    /// The interfaces of the default routes (destination and mask 0, flag RTF_UP), lowest metric first.
    public static func defaultRouteInterfaces(_ bytes: [UInt8]) throws(ParseError) -> [String] {
        let text = try SysfsText.text(bytes)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)[...]
        // A kernel without IPv4 routes may show nothing at all.
        guard let header = lines.popFirst() else { return [] }
        guard header.hasPrefix("Iface") else { throw ParseError("the first line is not the Iface… header") }
        guard lines.count <= lineLimit else { throw ParseError("more than \(lineLimit) lines") }
        var routes: [(interface: String, metric: Int)] = []
        for (index, line) in lines.enumerated() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 8, let flags = UInt32(fields[3], radix: 16), let metric = Int(fields[6]),
                UInt32(fields[1], radix: 16) != nil, UInt32(fields[7], radix: 16) != nil
            else { throw ParseError("line \(index + 2) is not a route (Iface Destination Gateway Flags RefCnt Use Metric Mask …)") }
            if fields[1] == "00000000" && fields[7] == "00000000" && flags & up != 0 { routes.append((String(fields[0]), metric)) }
        }
        var seen: Set<String> = []
        return routes.sorted { $0.metric < $1.metric }.map(\.interface).filter { seen.insert($0).inserted }
    }
}
