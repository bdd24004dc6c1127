import IOMMUSnapshot
import Reconcile
import Systemd
#if canImport(Glibc)
    import Glibc
#endif

/// Reads a root and reconciles it. The live one reads sysfs; tests pass their own.
public typealias Scanner = @Sendable (String) throws(ReadError) -> (Snapshot, Reconciliation)

/// How the daemon was started (command-line options, not the config file).
public struct ServiceOptions: Sendable {
    public var root: String
    public var config: ConfigLoader
    /// Folder of `state.json` (systemd's `RuntimeDirectory=`).
    public var stateFolder: String
    public var logTarget: LogTarget
    /// Test-only: on SIGUSR1 the loop stops working (and so stops pinging the watchdog).
    public var stallOnSIGUSR1: Bool

    public init(
        root: String, config: ConfigLoader, stateFolder: String = StateFile.defaultFolder, logTarget: LogTarget = .auto,
        stallOnSIGUSR1: Bool = false
    ) {
        self.root = root
        self.config = config
        self.stateFolder = stateFolder
        self.logTarget = logTarget
        self.stallOnSIGUSR1 = stallOnSIGUSR1
    }
}

/// The service: first reconcile, `READY=1`, then a `poll(2)` loop over one `sd_event` fd (signals,
/// uevents) and two deadlines (debounced/periodic rescan, watchdog ping). Everything it learns it
/// hands to the pure core (`Transition`, `EntryRenderer`, `RescanSchedule`); it owns only the edges.
public final class Service {
    public static let liveScanner: Scanner = { root throws(ReadError) in
        let snapshot = try SnapshotReader.read(root: root, shouldStop: terminationPending)
        return (snapshot, Reconciler.reconcile(snapshot))
    }

    /// Whether SIGTERM or SIGINT waits (blocked, for the signalfd): a scan in progress stops at the
    /// next device or group, so the daemon can always be stopped within a second.
    @Sendable public static func terminationPending() -> Bool {
        var pending = sigset_t()
        guard sigpending(&pending) == 0 else { return false }
        return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1
    }

    /// Uevent actions that can change groups, bindings or what the model predicts.
    static let relevantActions: Set<String> = ["add", "remove", "bind", "unbind", "change", "move"]

    let options: ServiceOptions
    let scanner: Scanner
    private(set) var config: DaemonConfig
    private var configFiles: [String]
    private var state: ObservedState?
    private var since: [String: String] = [:]
    private var rescans = 0
    private var started = ""
    private var schedule: RescanSchedule
    private var watchdog: WatchdogTimer
    private var sink: LogSink?
    /// Problems reported once (degraded parts), so they are not repeated every rescan.
    private var reported: Set<String> = []
    /// The last `STATUS=` sent.
    private var lastStatus = ""

    public init(options: ServiceOptions, config: DaemonConfig, configFiles: [String], scanner: @escaping Scanner = Service.liveScanner) {
        self.options = options
        self.config = config
        self.configFiles = configFiles
        self.scanner = scanner
        let now = ServiceManager.monotonicMicroseconds()
        schedule = RescanSchedule(config: config, now: now)
        watchdog = WatchdogTimer(timeout: nil, now: now)
    }

    /// Runs until SIGTERM or SIGINT; returns the exit status.
    public func run() -> Int32 {
        let events: EventSources
        do throws(SystemdError) {
            events = try EventSources()
            try events.watchSignals([SIGTERM, SIGINT, SIGHUP, SIGUSR1])
        } catch {
            Files.writeStandardError("iommu-watch: cannot set up the event loop: \(error)")
            return 1
        }
        // After blocking signals, so the writer thread inherits the mask.
        let sink = LogSink(target: options.logTarget)
        self.sink = sink
        started = StateFile.timestamp(time(nil))

        do throws(Files.Failure) {
            try Files.makeFolder(options.stateFolder)
        } catch {
            degraded("state-folder", "cannot create the state folder \(error); iommu-watch status will not work")
        }
        // First reconcile: a root that cannot be read at all is a configuration error, not a state.
        do throws(ReadError) {
            let (snapshot, found) = try scanner(options.root)
            let first = ObservedState(snapshot: snapshot, found: found)
            sink.submit([EntryRenderer.started(first, root: options.root)])
            apply(first)
        } catch  where error.kind == .interrupted {
            ServiceManager.notify("STOPPING=1\nSTATUS=Stopping.")
            sink.flush(timeout: 2 * Microseconds.second)
            return 0
        } catch {
            let message = "Cannot read the root \(options.root): \(error.path): \(error.message)."
            sink.submit([DaemonEvent.readError.entry(message, fields: [JournalField("IOMMU_WATCH_PATH", error.path)])])
            // Say it on stderr too when the entry may have nowhere to go (no journal yet).
            if options.logTarget == .journal && !Journal.socketExists { Files.writeStandardError("iommu-watch: \(message)") }
            sink.flush(timeout: Microseconds.second)
            return 1
        }
        do throws(SystemdError) {
            try events.watchDevices(subsystem: "pci")
        } catch {
            degraded("uevents", "cannot watch PCI uevents (\(error)); only the periodic rescan will see changes")
        }
        let now = ServiceManager.monotonicMicroseconds()
        schedule = RescanSchedule(config: config, now: now)
        watchdog = WatchdogTimer(timeout: ServiceManager.watchdogTimeout(), now: now)
        notifyStatus("READY=1\nSTATUS=\(status)")

        var descriptor = pollfd(fd: events.fileDescriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let now = ServiceManager.monotonicMicroseconds()
            let deadlines = [schedule.deadline, watchdog.nextPing].compactMap { $0 }
            let timeout = deadlines.min().map { Int32(clamping: ($0 > now ? $0 - now + 999 : 0) / 1000) } ?? -1
            descriptor.revents = 0
            _ = poll(&descriptor, 1, timeout)
            let (signals, devices) = events.drain()
            let afterPoll = ServiceManager.monotonicMicroseconds()
            if devices.contains(where: { Self.relevantActions.contains($0.action) }) {
                schedule.deviceEvent(at: afterPoll)
            }
            for signal in signals {
                switch signal {
                case SIGTERM, SIGINT:
                    ServiceManager.notify("STOPPING=1\nSTATUS=Stopping.")
                    sink.flush(timeout: 2 * Microseconds.second)
                    return 0
                case SIGHUP:
                    reload()
                case SIGUSR1 where options.stallOnSIGUSR1:
                    // Test-only: a stuck scan. The watchdog must notice and kill us.
                    while true { sleep(3600) }
                default:
                    break
                }
            }
            if schedule.isDue(at: ServiceManager.monotonicMicroseconds()) {
                rescan()
            }
            let afterWork = ServiceManager.monotonicMicroseconds()
            if watchdog.isDue(at: afterWork) {
                ServiceManager.notify("WATCHDOG=1")
                watchdog.pinged(at: afterWork)
            }
        }
    }

    /// `STATUS=`: groups and shown divergences.
    var status: String {
        guard let state else { return "Starting." }
        return "\(state.groups.count) groups, \(state.divergences.values.filter(config.shows).count) divergences"
    }

    /// Reads, reconciles, logs what changed, writes the state and Prometheus files.
    func rescan() {
        var next: ObservedState
        do throws(ReadError) {
            let (snapshot, found) = try scanner(options.root)
            next = ObservedState(snapshot: snapshot, found: found)
        } catch  where error.kind == .interrupted {
            // SIGTERM waits in the signalfd; the loop handles it next.
            return
        } catch {
            // Keep what we knew; report the root itself as unreadable until it reads again.
            next = state ?? ObservedState()
            next.readErrors[error.path] = error.message
        }
        apply(next)
        // Only when it changed: systemd need not hear the same line after every rescan.
        if status != lastStatus { notifyStatus("STATUS=\(status)") }
    }

    /// Sends `message`, which ends in `STATUS=` + the current status, and remembers that status.
    private func notifyStatus(_ message: String) {
        ServiceManager.notify(message)
        lastStatus = status
    }

    private func apply(_ next: ObservedState) {
        let transitions = Transition.between(state, next)
        sink?.submit(transitions.compactMap { EntryRenderer.entry(for: $0, kernel: next.kernelRelease, config: config) })
        state = next
        rescans += 1
        schedule.rescanned(at: ServiceManager.monotonicMicroseconds())
        let now = time(nil)
        let timestamp = StateFile.timestamp(now)
        since = since.filter { next.divergences[$0.key] != nil }
        for key in next.divergences.keys where since[key] == nil { since[key] = timestamp }
        writeFiles(next, updated: timestamp, unixTime: now)
    }

    private func writeFiles(_ state: ObservedState, updated: String, unixTime: Int) {
        let file = StateFile(
            pid: getpid(), root: options.root, started: started, updated: updated, rescans: rescans,
            configFiles: configFiles, state: state, since: since, config: config)
        do throws(Files.Failure) {
            try Files.replace(options.stateFolder + "/" + StateFile.fileName, with: file.encoded())
            reported.remove("state-file")
        } catch {
            degraded("state-file", "cannot write the state file: \(error)")
        }
        guard let path = config.prometheusFile else { return }
        do throws(Files.Failure) {
            try Files.replace(path, with: Array(PrometheusText.render(state, config: config, rescans: rescans, updatedAt: unixTime).utf8))
            reported.remove("prometheus")
        } catch {
            degraded("prometheus", "cannot write the Prometheus file: \(error)")
        }
    }

    /// SIGHUP: tell systemd, read the configuration again (keeping the old one if the new is bad), rescan.
    private func reload() {
        ServiceManager.notify("RELOADING=1\nMONOTONIC_USEC=\(ServiceManager.monotonicMicroseconds())\nSTATUS=Reloading.")
        do throws(ConfigError) {
            let (fresh, files) = try options.config.load()
            config = fresh
            configFiles = files
            schedule.reconfigure(fresh, now: ServiceManager.monotonicMicroseconds())
            sink?.submit([
                DaemonEvent.reloaded.entry(
                    files.isEmpty
                        ? "Reloaded the configuration: no file, built-in defaults."
                        : "Reloaded the configuration from \(files.joined(separator: ", ")).")
            ])
        } catch {
            sink?.submit([
                DaemonEvent.configRejected.entry(
                    "Kept the old configuration: \(error).",
                    fields: [
                        JournalField("CONFIG_FILE", error.file), JournalField("CONFIG_LINE", String(error.line)),
                    ])
            ])
        }
        rescan()
        notifyStatus("READY=1\nSTATUS=\(status)")
    }

    /// Logs a problem once until it goes away (callers remove the tag on success).
    private func degraded(_ tag: String, _ reason: String) {
        guard reported.insert(tag).inserted else { return }
        sink?.submit([
            DaemonEvent.degraded.entry("iommu-watch is degraded: \(reason).", fields: [JournalField("IOMMU_WATCH_REASON", reason)])
        ])
    }
}
