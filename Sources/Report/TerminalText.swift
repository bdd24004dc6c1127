/// The one place text meets a terminal.
///
/// Names, link targets, file contents and paths come from a root anyone may have made, so any of
/// them can hold an escape sequence (clear the screen, set the window title, forge a line). Every
/// line of human-readable output goes through `line(_:)`, which shows such characters as visible
/// escapes instead of sending them; output is assembled from lines, so no input can start a new one.
public enum TerminalText {
    /// `text` as one terminal line: C0 controls (newline and tab included), DEL and C1 controls as
    /// `\n`, `\t`, `\r`, `\xHH` or `\u{HHHH}`; line and paragraph separators, bidirectional
    /// overrides and isolates (which reorder what follows them on screen) as `\u{HHHH}`; and the
    /// replacement character, which marks bytes that were not UTF-8 when the reader decoded them, as
    /// `\u{fffd}`. Everything else is unchanged, a backslash included.
    public static func line(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                let digits = String(scalar.value, radix: 16)
                if scalar.value < 0x80 {
                    out += "\\x" + (digits.count < 2 ? "0" : "") + digits
                } else {
                    out += "\\u{" + digits + "}"
                }
            }
        }
        return out
    }

    /// Lines joined for output, each through `line(_:)`, each ending in a newline.
    public static func lines(_ lines: [String]) -> String {
        var out = ""
        for text in lines {
            out += line(text)
            out += "\n"
        }
        return out
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1f, 0x7f...0x9f: true
        case 0x2028, 0x2029: true
        case 0x200e, 0x200f, 0x202a...0x202e, 0x2066...0x2069: true
        case 0xfffd: true
        default: false
        }
    }
}
