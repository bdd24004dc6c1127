import IOMMUSnapshot
import Testing
@testable import Daemon

@Suite struct ConfigTests {
    func parse(_ text: String) throws(ConfigError) -> DaemonConfig {
        var config = DaemonConfig()
        try ConfigParser.apply(text, file: "/etc/iommu-watch/iommu-watch.conf", to: &config)
        return config
    }

    @Test func documentedExampleParses() throws {
        let config = try parse(
            """
            # comment
            [Daemon]
            RescanIntervalSec=5min
            DebounceSec=250ms
            MinimumSeverity=warning
            PrometheusFile=/var/lib/prometheus/node-exporter/iommu-watch.prom

            [Suppress]
            Divergence=shared-identity-domain
            Divergence=vfio-group-not-viable slot=0000:01:00.0
            Divergence=* group=12
            """)
        #expect(config.rescanInterval == 300 * Microseconds.second)
        #expect(config.debounce == 250 * Microseconds.millisecond)
        #expect(config.minimumSeverity == .warning)
        #expect(config.prometheusFile == "/var/lib/prometheus/node-exporter/iommu-watch.prom")
        #expect(
            config.suppressions == [
                Suppression(divergence: "shared-identity-domain"),
                Suppression(divergence: "vfio-group-not-viable", slot: PCIAddress("0000:01:00.0")),
                Suppression(divergence: nil, group: 12),
            ])
    }

    @Test func errorsNameFileAndLine() {
        #expect(
            throws: ConfigError(
                file: "/etc/iommu-watch/iommu-watch.conf", line: 3,
                message: "RescanIntervalSec: 'soon' is not a time span (e.g. 60, 30s, 5min)")
        ) {
            try parse("[Daemon]\n\nRescanIntervalSec=soon\n")
        }
        #expect(throws: ConfigError.self) { try parse("RescanIntervalSec=1\n") }
        #expect(throws: ConfigError.self) { try parse("[Daemon]\nRescan=1\n") }
        #expect(throws: ConfigError.self) { try parse("[Suppress]\nDivergence=x slot=nonsense\n") }
        #expect(throws: ConfigError.self) { try parse("[Daemon]\nMinimumSeverity=loud\n") }
        #expect(throws: ConfigError.self) { try parse("[Nope]\n") }
    }

    @Test func emptyDivergenceClearsEarlierSuppressions() throws {
        let config = try parse("[Suppress]\nDivergence=a\nDivergence=\nDivergence=b\n")
        #expect(config.suppressions == [Suppression(divergence: "b")])
    }

    @Test func timeSpansFollowSystemd() {
        #expect(ConfigParser.parseTimeSpan("60") == 60_000_000)
        #expect(ConfigParser.parseTimeSpan("1min 30s") == 90_000_000)
        #expect(ConfigParser.parseTimeSpan("0.5s") == 500_000)
        #expect(ConfigParser.parseTimeSpan("200ms") == 200_000)
        #expect(ConfigParser.parseTimeSpan("1h") == 3_600_000_000)
        #expect(ConfigParser.parseTimeSpan("fast") == nil)
        #expect(ConfigParser.parseTimeSpan("") == nil)
    }

    @Test func dropInsOverrideTheMainFileInNameOrder() throws {
        let folder = "/tmp/iommu-watch-config-test-\(getpid())"
        try Files.makeFolder(folder)
        try Files.makeFolder(folder + "/main.conf.d")
        try Files.replace(folder + "/main.conf", with: Array("[Daemon]\nDebounceSec=1s\nRescanIntervalSec=10s\n".utf8))
        try Files.replace(folder + "/main.conf.d/20-b.conf", with: Array("[Daemon]\nDebounceSec=3s\n".utf8))
        try Files.replace(folder + "/main.conf.d/10-a.conf", with: Array("[Daemon]\nDebounceSec=2s\n".utf8))
        try Files.replace(folder + "/main.conf.d/ignored.txt", with: Array("garbage".utf8))
        let (config, files) = try ConfigLoader(path: folder + "/main.conf").load()
        #expect(config.debounce == 3 * Microseconds.second)
        #expect(config.rescanInterval == 10 * Microseconds.second)
        #expect(files == [folder + "/main.conf", folder + "/main.conf.d/10-a.conf", folder + "/main.conf.d/20-b.conf"])
        #expect(throws: ConfigError.self) { try ConfigLoader(path: folder + "/missing.conf").load() }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
