/// When to rescan: after a burst of uevents has been quiet for `debounce` (but no later than
/// `limit` after the burst began), and every `interval` regardless. Pure: the loop passes the time.
public struct RescanSchedule: Sendable, Hashable {
    public private(set) var interval: Microseconds
    public private(set) var debounce: Microseconds
    public private(set) var limit: Microseconds
    /// First and last uevent of the burst not yet rescanned.
    public private(set) var burstStart: Microseconds?
    public private(set) var lastEvent: Microseconds?
    public private(set) var nextPeriodic: Microseconds?

    public init(config: DaemonConfig, now: Microseconds) {
        interval = config.rescanInterval
        debounce = config.debounce
        limit = config.debounceLimit
        nextPeriodic = interval > 0 ? now + interval : nil
    }

    /// A new configuration takes effect from `now`.
    public mutating func reconfigure(_ config: DaemonConfig, now: Microseconds) {
        let burst = (burstStart, lastEvent)
        self = RescanSchedule(config: config, now: now)
        (burstStart, lastEvent) = burst
    }

    public mutating func deviceEvent(at now: Microseconds) {
        if burstStart == nil { burstStart = now }
        lastEvent = now
    }

    /// The next moment a rescan is due, if any.
    public var deadline: Microseconds? {
        let debounced = burstStart.map { start in min(lastEvent! + debounce, start + limit) }
        switch (debounced, nextPeriodic) {
        case let (a?, b?): return min(a, b)
        case let (a, b): return a ?? b
        }
    }

    public func isDue(at now: Microseconds) -> Bool { deadline.map { now >= $0 } ?? false }

    /// A rescan ran at `now`: the burst is consumed and the periodic timer starts over.
    public mutating func rescanned(at now: Microseconds) {
        burstStart = nil
        lastEvent = nil
        nextPeriodic = interval > 0 ? now + interval : nil
    }
}

/// Keep-alive pings at half the watchdog timeout, as `sd_watchdog_enabled(3)` advises.
public struct WatchdogTimer: Sendable, Hashable {
    /// Ping period; nil when no watchdog is set.
    public let period: Microseconds?
    public private(set) var nextPing: Microseconds?

    public init(timeout: Microseconds?, now: Microseconds) {
        period = timeout.map { max($0 / 2, 1) }
        nextPing = period.map { now + $0 }
    }

    public func isDue(at now: Microseconds) -> Bool { nextPing.map { now >= $0 } ?? false }

    public mutating func pinged(at now: Microseconds) {
        nextPing = period.map { now + $0 }
    }
}
