import ArgumentParser
import Report
import Daemon
#if canImport(Glibc)
    import Glibc
#endif

extension LogTarget: ExpressibleByArgument {}

/// `iommu-watch daemon`: the long-running service (docs/daemon.md).
struct DaemonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Watch the IOMMU groups and log every change to the journal.",
        discussion: """
            Reads the groups and PCI devices, reconciles them with the kernel's rules, logs a summary and every \
            divergence, then tells systemd READY=1. From then on it logs transitions only: a divergence when it \
            appears and when it is resolved, a group when it appears or goes away, a driver or domain type when it \
            changes. PCI uevents trigger a debounced rescan; a periodic rescan catches what sends none. SIGHUP \
            reloads the configuration, SIGTERM stops. The state after each rescan is in STATE-DIR/state.json \
            ("iommu-watch status"). Never writes to sysfs.

            Exit status: 0 after SIGTERM, 1 when the root cannot be read, 78 for a bad configuration.
            """)

    @OptionGroup var rootOption: RootOption
    var root: String { rootOption.root }

    @Option(
        help: ArgumentHelp(
            "Configuration file (default \(ConfigLoader.defaultPath)); drop-ins are read from FILE.d/*.conf.", valueName: "file"))
    var config: String?

    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Folder of state.json.", valueName: "dir"))
    var stateDirectory = StateFile.defaultFolder

    @Flag(
        help:
            "Run in a terminal or container: log readable lines to stderr whenever no journal socket exists (same as --log-target auto). The daemon never forks either way."
    )
    var foreground = false

    @Option(
        help: ArgumentHelp(
            "journal: always the journal, holding entries while journald is down; stderr: readable lines; auto: the journal when its socket exists, else stderr. Default: journal, or auto with --foreground.",
            valueName: "target"))
    var logTarget: LogTarget?

    @Flag(help: "Check the configuration, print what it resolves to, and exit.")
    var checkConfig = false

    func run() throws {
        let loader = ConfigLoader(path: config)
        let loaded: DaemonConfig
        let files: [String]
        do throws(ConfigError) {
            (loaded, files) = try loader.load()
        } catch {
            StandardStreams.error("bad configuration: \(error)")
            throw ExitCode(78)
        }
        if checkConfig {
            var lines = [
                files.isEmpty ? "Configuration OK: no file, built-in defaults." : "Configuration OK: \(files.joined(separator: ", "))."
            ]
            lines.append(
                "RescanIntervalSec=\(Double(loaded.rescanInterval) / 1e6)s DebounceSec=\(Double(loaded.debounce) / 1e6)s MinimumSeverity=\(loaded.minimumSeverity.rawValue)"
            )
            lines.append("PrometheusFile=\(loaded.prometheusFile ?? "")")
            for suppression in loaded.suppressions { lines.append("Suppress: \(suppression)") }
            StandardStreams.write(TerminalText.lines(lines))
            return
        }
        let target = logTarget ?? (foreground ? .auto : .journal)
        let stall = getenv("IOMMU_WATCH_TEST_STALL_ON_SIGUSR1").map { String(cString: $0) == "1" } ?? false
        let options = ServiceOptions(root: root, config: loader, stateFolder: stateDirectory, logTarget: target, stallOnSIGUSR1: stall)
        let status = Service(options: options, config: loaded, configFiles: files).run()
        if status != 0 { throw ExitCode(status) }
    }
}
