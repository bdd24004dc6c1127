import Systemd
#if canImport(Glibc)
    import Glibc
#endif

/// Where log entries go, decided per entry so that a journald that appears or goes away is followed.
public enum LogTarget: String, Sendable, CaseIterable {
    /// The journal when its socket exists, else readable lines on stderr.
    case auto
    case journal
    case stderr
}

/// Hands entries to a writer thread through a bounded queue, so the service loop never waits on
/// journald or on a full stderr pipe. While journald refuses entries (stopped, restarting) the writer
/// keeps them and retries with backoff, so a journald restart loses nothing unless the queue overflows;
/// then the oldest are dropped and the count is reported once delivery works again.
public final class LogSink: @unchecked Sendable {
    public let target: LogTarget
    public let capacity: Int
    /// Guarded by `mutex`.
    private var queue: [LogEntry] = []
    private var head = 0
    private var dropped = 0
    private var busy = false
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let idle = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init(target: LogTarget, capacity: Int = 4096) {
        self.target = target
        self.capacity = capacity
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(wake, &attributes)
        pthread_cond_init(idle, &attributes)
        pthread_condattr_destroy(&attributes)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(
            &thread, nil,
            { context in
                Unmanaged<LogSink>.fromOpaque(context!).takeRetainedValue().writerLoop()
                return nil
            }, context)
        pthread_detach(thread)
    }

    /// Queues entries; returns at once.
    public func submit(_ entries: [LogEntry]) {
        guard !entries.isEmpty else { return }
        pthread_mutex_lock(mutex)
        queue.append(contentsOf: entries)
        let overflow = queue.count - head - capacity
        if overflow > 0 {
            head += overflow
            dropped += overflow
        }
        if head > 1024 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
    }

    /// Waits up to `timeout` for the queue to drain (at shutdown). Returns true when it did.
    @discardableResult
    public func flush(timeout: Microseconds) -> Bool {
        var deadline = Self.timespec(after: timeout)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while head < queue.count || busy {
            if pthread_cond_timedwait(idle, mutex, &deadline) == ETIMEDOUT { return false }
        }
        return true
    }

    /// Entries waiting (for tests and the state file).
    public var pending: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return queue.count - head
    }

    private func writerLoop() {
        var backoff: Microseconds = 50 * Microseconds.millisecond
        pthread_mutex_lock(mutex)
        while true {
            while head == queue.count {
                busy = false
                pthread_cond_broadcast(idle)
                pthread_cond_wait(wake, mutex)
            }
            busy = true
            var entry = queue[head]
            let lost = dropped
            pthread_mutex_unlock(mutex)
            if lost > 0 {
                entry = DaemonEvent.degraded.entry(
                    "\(lost) log entries were dropped while the journal was unavailable.",
                    fields: [JournalField("IOMMU_WATCH_REASON", "\(lost) log entries dropped")])
            }
            let delivered = deliver(entry)
            pthread_mutex_lock(mutex)
            if delivered {
                backoff = 50 * Microseconds.millisecond
                if lost > 0 { dropped -= lost } else if head < queue.count { head += 1 }
            } else {
                // journald is down: keep the entry, wait, try again; new entries queue behind it.
                var deadline = Self.timespec(after: backoff)
                pthread_cond_timedwait(wake, mutex, &deadline)
                backoff = min(backoff * 2, 2 * Microseconds.second)
            }
        }
    }

    /// True when the entry reached its target or can never reach it (so retrying is pointless).
    private func deliver(_ entry: LogEntry) -> Bool {
        let useJournal = target == .journal || (target == .auto && Journal.socketExists)
        guard useJournal else {
            Files.writeStandardError(entry.stderrLine)
            return true
        }
        // A missing socket reads as success to sd_journal_sendv; wait for journald instead.
        guard Journal.socketExists else { return false }
        let result = Journal.send(entry.journalFields)
        switch -result {
        case 0: return true
        case ECONNREFUSED, ENOENT, EAGAIN, ENOBUFS, ENOTCONN, ECONNRESET: return false
        default: return true
        }
    }

    static func timespec(after span: Microseconds) -> timespec {
        var now = Glibc.timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nanoseconds = Int(now.tv_nsec) + Int(span % Microseconds.second) * 1_000
        return Glibc.timespec(
            tv_sec: now.tv_sec + Int(span / Microseconds.second) + nanoseconds / 1_000_000_000,
            tv_nsec: nanoseconds % 1_000_000_000)
    }
}
