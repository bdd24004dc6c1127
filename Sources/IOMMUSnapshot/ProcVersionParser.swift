/// `proc/version`: `Linux version <release> (<builder>) …`.
public enum ProcVersionParser {
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> KernelInfo {
        let text = try SysfsText.text(bytes)
        guard let line = text.split(separator: "\n").first, !line.isEmpty else { throw ParseError("empty file") }
        let words = line.split(separator: " ", maxSplits: 3)
        guard words.count >= 3, words[0] == "Linux", words[1] == "version" else {
            throw ParseError("expected \"Linux version <release> …\"")
        }
        let release = String(words[2])
        guard let version = KernelVersion(release: release) else { throw ParseError("release \(release) has no major.minor") }
        return KernelInfo(release: release, version: version, versionLine: String(line))
    }
}
