/// `proc/cmdline`: one line.
public enum ProcCmdlineParser {
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> KernelCommandLine {
        let text = try SysfsText.text(bytes)
        let line = text.hasSuffix("\n") ? String(text.dropLast()) : text
        guard !line.contains("\n") else { throw ParseError("more than one line") }
        return KernelCommandLine(line)
    }
}
