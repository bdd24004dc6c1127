import ArgumentParser

/// `scan`'s documented exit statuses.
enum ExitStatus {
    /// No divergence at or above `--fail-on`.
    static let clean = ExitCode(0)
    /// Some divergence at or above `--fail-on`.
    static let divergent = ExitCode(1)
    /// The root could not be read at all.
    static let unreadable = ExitCode(2)
}
