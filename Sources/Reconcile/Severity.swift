/// How much a divergence matters; maps onto syslog priorities for journald's `PRIORITY=`.
public enum Severity: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case error
    case warning
    case notice
    case info

    /// syslog(3) priority: LOG_ERR 3, LOG_WARNING 4, LOG_NOTICE 5, LOG_INFO 6.
    public var syslogPriority: Int {
        switch self {
        case .error: 3
        case .warning: 4
        case .notice: 5
        case .info: 6
        }
    }

    /// `error` is the most severe: `a < b` means a is less severe than b.
    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.syslogPriority > rhs.syslogPriority }
}
