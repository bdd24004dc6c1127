/// Colour for people at a terminal: severities of divergences, and the posture's warnings. Applied to
/// lines `TerminalText` has already made safe, so the only escape sequences in the output are these;
/// every line starts with a prefix the renderer wrote, so input cannot make a line look coloured.
public enum TerminalColour {
    /// `--color auto`: a terminal, `NO_COLOR` unset or empty (no-color.org), and `TERM` not `dumb`.
    public static func wanted(isTerminal: Bool, environment: [String: String]) -> Bool {
        isTerminal && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
    }

    static let reset = "\u{1b}[0m"
    static let styles: [(prefix: String, word: String, code: String)] = [
        ("  critical ", "critical", "\u{1b}[1;31m"), ("  error   ", "error", "\u{1b}[1;31m"), ("  warning ", "warning", "\u{1b}[33m"),
        ("  notice  ", "notice", "\u{1b}[36m"),
    ]

    /// `text` (safe lines, newline-terminated) with the severity word of each divergence line and the
    /// upper-case warnings of the posture block coloured.
    public static func apply(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 256)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            var line = String(line)
            if let style = styles.first(where: { line.hasPrefix($0.prefix) }) {
                line = "  " + style.code + style.word + reset + line.dropFirst(2 + style.word.count)
            } else if line.hasPrefix("vfio: the host needs") || line.hasPrefix("  vfio: the host needs")
                || line.hasPrefix("  vfio: blocked")
            {
                line = "\u{1b}[33m" + line + reset
            } else if ["interrupts:", "VFIO:", "external:", "IOMMU:", "mode:"].contains(where: { line.hasPrefix($0) }) {
                for word in ["NOT remapped", "ENABLED", "ALLOWED", "NOT protected by the IOMMU"] {
                    line = line.replacing(word, with: "\u{1b}[1;31m" + word + reset)
                }
            }
            out += line + "\n"
        }
        return out
    }
}
