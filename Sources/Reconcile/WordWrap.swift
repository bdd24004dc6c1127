/// Greedy word wrap, the one of every text iommu-watch lays out: the catalogs, `explain` and `scan`.
public enum WordWrap {
    /// `text`'s words, at most `width` characters a line (a longer word gets a line of its own).
    public static func lines(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
