import IOMMUSnapshot
import Reconcile

/// Parses the systemd-style INI format: `[Section]`, `Key=Value`, `#`/`;` comments, later files and
/// later lines override earlier ones, an empty `Divergence=` clears the suppressions so far. Pure.
public enum ConfigParser {
    /// Applies one file's text on top of `config`.
    public static func apply(_ text: String, file: String, to config: inout DaemonConfig) throws(ConfigError) {
        var section: String?
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            func fail(_ message: String) -> ConfigError { ConfigError(file: file, line: lineNumber, message: message) }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else { throw fail("a section header must end with ']'") }
                let name = String(line.dropFirst().dropLast())
                guard ["Daemon", "Suppress"].contains(name) else {
                    throw fail("unknown section [\(name)]; known sections are [Daemon] and [Suppress]")
                }
                section = name
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { throw fail("expected Key=Value, found '\(line)'") }
            let key = String(line[..<equals]).trimmingWhitespace()
            let value = String(line[line.index(after: equals)...]).trimmingWhitespace()
            switch (section, key) {
            case (nil, _):
                throw fail("'\(key)=' comes before any section; put it under [Daemon] or [Suppress]")
            case ("Daemon", "RescanIntervalSec"):
                guard let span = parseTimeSpan(value) else {
                    throw fail("RescanIntervalSec: '\(value)' is not a time span (e.g. 60, 30s, 5min)")
                }
                guard span == 0 || span >= 10 * Microseconds.millisecond else {
                    throw fail("RescanIntervalSec: \(value) is too short; use at least 10ms, or 0 to turn the periodic rescan off")
                }
                config.rescanInterval = span
            case ("Daemon", "DebounceSec"):
                guard let span = parseTimeSpan(value) else { throw fail("DebounceSec: '\(value)' is not a time span (e.g. 500ms, 1s)") }
                guard span <= 60 * Microseconds.second else { throw fail("DebounceSec: \(value) is longer than a minute") }
                config.debounce = span
            case ("Daemon", "MinimumSeverity"):
                guard let severity = Severity(rawValue: value.lowercased()) else {
                    throw fail("MinimumSeverity: '\(value)' is not one of error, warning, notice, info")
                }
                config.minimumSeverity = severity
            case ("Daemon", "PrometheusFile"):
                guard value.isEmpty || value.hasPrefix("/") else { throw fail("PrometheusFile: '\(value)' is not an absolute path") }
                guard value.isEmpty || value.hasSuffix(".prom") else {
                    throw fail("PrometheusFile: node_exporter reads only files ending in .prom")
                }
                config.prometheusFile = value.isEmpty ? nil : value
            case ("Suppress", "Divergence"):
                if value.isEmpty {
                    config.suppressions.removeAll()
                } else {
                    do throws(ParseFailure) {
                        config.suppressions.append(try parseSuppression(value))
                    } catch {
                        throw fail("Divergence: \(error.reason)")
                    }
                }
            case ("Daemon", _):
                throw fail(
                    "unknown key '\(key)' in [Daemon]; known keys are RescanIntervalSec, DebounceSec, MinimumSeverity, PrometheusFile")
            default:
                throw fail("unknown key '\(key)' in [Suppress]; the only key is Divergence")
            }
        }
    }

    struct ParseFailure: Error {
        var reason: String
    }

    static func parseSuppression(_ value: String) throws(ParseFailure) -> Suppression {
        let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
        let name = String(words[0])
        guard name == "*" || (name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" } && name.first?.isLetter == true) else {
            throw ParseFailure(reason: "'\(name)' is neither a divergence name (kebab-case, see 'iommu-watch explain') nor '*'")
        }
        var suppression = Suppression(divergence: name == "*" ? nil : name)
        for word in words.dropFirst() {
            if word.hasPrefix("group="), let group = Int(word.dropFirst(6)), group >= 0 {
                suppression.group = group
            } else if word.hasPrefix("slot="), let slot = PCIAddress(word.dropFirst(5)) {
                suppression.slot = slot
            } else {
                throw ParseFailure(reason: "'\(word)' is neither group=N nor slot=DDDD:BB:DD.F")
            }
        }
        return suppression
    }

    /// systemd time spans: `60`, `30s`, `500ms`, `2min 30s`, `1h`; a bare number is seconds.
    /// Fractions are allowed (`0.5s`).
    public static func parseTimeSpan(_ text: String) -> Microseconds? {
        let units: [(String, Double)] = [
            ("usec", 1), ("us", 1), ("msec", 1e3), ("ms", 1e3), ("seconds", 1e6), ("second", 1e6), ("sec", 1e6),
            ("s", 1e6), ("minutes", 6e7), ("minute", 6e7), ("min", 6e7), ("m", 6e7), ("hours", 3.6e9), ("hour", 3.6e9), ("h", 3.6e9),
        ]
        var rest = Substring(text.trimmingWhitespace())
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count).drop { $0 == " " }
            let letters = rest.prefix { $0.isLetter }
            let factor: Double
            if letters.isEmpty {
                factor = 1e6
            } else if let unit = units.first(where: { $0.0 == letters }) {
                factor = unit.1
            } else {
                return nil
            }
            rest = rest.dropFirst(letters.count).drop { $0 == " " }
            total += value * factor
        }
        return total < 1e15 ? Microseconds(total.rounded()) : nil
    }
}
