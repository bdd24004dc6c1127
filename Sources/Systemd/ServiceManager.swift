import CSystemd
#if canImport(Glibc)
    import Glibc
#endif

/// The service manager's notification protocol, `sd_notify(3)`. Without `NOTIFY_SOCKET` every call
/// is a no-op, so the daemon runs the same under systemd, in a test and in a terminal.
public enum ServiceManager {
    /// Sends newline-separated `NAME=value` assignments (`READY=1\nSTATUS=…`).
    /// Returns true when a service manager received them.
    @discardableResult
    public static func notify(_ state: String) -> Bool {
        sd_notify(0, state) > 0
    }

    /// The watchdog timeout systemd set for this process (`WATCHDOG_USEC`, checked against
    /// `WATCHDOG_PID` by `sd_watchdog_enabled(3)`), in microseconds; nil when no watchdog is on.
    public static func watchdogTimeout() -> UInt64? {
        var usec: UInt64 = 0
        return sd_watchdog_enabled(0, &usec) > 0 && usec > 0 ? usec : nil
    }

    /// `CLOCK_MONOTONIC` in microseconds, the clock `MONOTONIC_USEC=` is read against.
    public static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}
