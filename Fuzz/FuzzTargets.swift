// libFuzzer entry for every parser of the reader, the daemon and the state file's JSON. One binary; the target is chosen by
// IOMMU_WATCH_FUZZ_TARGET so one build serves all. The daemon's pure files (DaemonConfig.swift,
// Schedule.swift, and the Reconcile types they name) are compiled into the same module by Fuzz/run. A parser may reject input (ParseError) but must
// never crash, and what it accepts must print back as the kernel would print it.
#if canImport(Glibc)
    import Glibc
#endif

typealias FuzzTarget = ([UInt8]) -> Void

let fuzzTargets: [String: FuzzTarget] = [
    "reserved_regions": { bytes in
        guard let regions = try? ReservedRegionsParser.parse(bytes) else { return }
        let printed = regions.map { $0.kernelLine + "\n" }.joined()
        // Accepted input is exactly what the kernel's format prints.
        if Array(printed.utf8) != bytes { fatalError("reserved_regions round trip differs") }
    },
    "type": { bytes in
        guard case .value(let type, let newline)? = try? GroupTypeParser.parse(bytes) else { return }
        if Array((type.rawValue + (newline ? "\n" : "")).utf8) != bytes { fatalError("type round trip differs") }
    },
    "config": { bytes in
        guard let config = try? PCIConfigSpaceParser.parse(bytes) else { return }
        if config.length != bytes.count { fatalError("config length lost") }
    },
    "cmdline": { bytes in
        guard let line = try? ProcCmdlineParser.parse(bytes) else { return }
        for parameter in line.parameters.prefix(8) { _ = line.value(of: parameter.key); _ = line.options(of: parameter.key) }
    },
    "version": { bytes in _ = try? ProcVersionParser.parse(bytes) },
    "iomem": { bytes in _ = try? IOMemParser.parse(bytes) },
    "pci_ids": { bytes in
        let wanted: Set<PCIIDs> = [PCIIDs(vendor: 0x8086, device: 0x1521), PCIIDs(vendor: 0x10de, device: 0x1bb1)]
        guard let names = try? PCIIDDatabaseParser.parse(bytes, wanted: wanted) else { return }
        if !Set(names.devices.keys).isSubset(of: wanted) { fatalError("a device that was not asked for kept") }
    },
    "mountinfo": { bytes in
        guard let mounts = try? MountInfoParser.parse(bytes) else { return }
        if mounts.contains(where: { $0.type.contains(" ") }) { fatalError("a mount type with a space accepted") }
    },
    "route": { bytes in
        guard let interfaces = try? RouteTableParser.defaultRouteInterfaces(bytes) else { return }
        if Set(interfaces).count != interfaces.count { fatalError("an interface listed twice") }
    },
    "interrupts": { bytes in
        guard let table = try? ProcInterruptsParser.parse(bytes) else { return }
        // Every accepted row names a chip that was in the text, as one word.
        if table.lines.contains(where: { $0.chip.isEmpty || $0.chip.contains(" ") || $0.number < 0 }) {
            fatalError("malformed row accepted")
        }
    },
    "kernel_config": { bytes in _ = try? KernelConfigParser.parse(bytes) },
    "config_gz": { bytes in
        // proc/config.gz: CLinux's one-shot zlib inflate into a bounded buffer, then the config parser,
        // as the reader does. A 256 KiB limit (production: 8 MiB) keeps each execution cheap; the
        // bound is checked the same way whatever its size.
        let limit = 1 << 18
        guard let text = try? GzipDecoder.decompress(bytes, limit: limit) else { return }
        if text.count > limit { fatalError("inflated past the limit") }
        _ = try? KernelConfigParser.parse(text)
    },
    "attribute": { bytes in
        _ = try? SysfsAttributeParser.hexID(bytes, bits: 16)
        _ = try? SysfsAttributeParser.decimal(bytes, range: 0...64)
        _ = try? SysfsAttributeParser.removable(bytes)
        _ = try? SysfsAttributeParser.hexRegister(bytes)
        _ = try? SysfsAttributeParser.hexRegisters(bytes)
        _ = try? SysfsAttributeParser.flag(bytes)
        _ = PCIAddress(String(decoding: bytes, as: UTF8.self))
        _ = KernelVersion(release: String(decoding: bytes, as: UTF8.self))
    },
    "dmar": { bytes in
        guard let table = try? DMARTableParser.parse(bytes) else { return }
        // Accepted: every structure lies inside the declared length, every range is ordered.
        if table.reservedMemory.contains(where: { $0.base > $0.limit }) { fatalError("RMRR accepted with base > limit") }
    },
    "ivrs": { bytes in
        guard let table = try? IVRSTableParser.parse(bytes) else { return }
        for block in table.memory { _ = (block.isUnity, block.isExclusion) }
        if table.hardware.flatMap(\.aliases).contains(where: { $0.first > $0.last }) { fatalError("IVRS alias range accepted backwards") }
    },
    "iort": { bytes in
        guard let table = try? IORTTableParser.parse(bytes) else { return }
        // Accepted: nodes in table order inside the declared length, at most the parser's bounds,
        // and every RMR range non-empty and not wrapping (an output reference is only a number; the
        // model looks it up).
        let length = UInt32(bytes[4]) | UInt32(bytes[5]) << 8 | UInt32(bytes[6]) << 16 | UInt32(bytes[7]) << 24
        if table.nodes.count > 4096 || table.nodes.reduce(0, { $0 + $1.mappings.count }) > 65536 { fatalError("IORT bounds exceeded") }
        if zip(table.nodes, table.nodes.dropFirst()).contains(where: { $0.offset + 16 > $1.offset }) { fatalError("IORT nodes overlap") }
        if table.nodes.contains(where: { $0.offset < 48 || $0.offset + 16 > length }) { fatalError("IORT node outside the table") }
        for node in table.nodes {
            _ = (node.kind.isIOMMU, node.mappings.map { table.node(at: $0.outputReference)?.kind.isIOMMU })
            guard case .reservedMemory(_, let ranges) = node.kind else { continue }
            if ranges.contains(where: { $0.length == 0 || $0.base > UInt64.max - ($0.length - 1) }) {
                fatalError("RMR range accepted empty or wrapping")
            }
        }
    },
    "viot": { bytes in
        guard let table = try? VIOTTableParser.parse(bytes) else { return }
        // Accepted: nodes in table order, every PCI range ordered.
        if zip(table.nodes, table.nodes.dropFirst()).contains(where: { $0.offset + 4 > $1.offset }) { fatalError("VIOT nodes overlap") }
        for node in table.nodes {
            guard case .pciRange(_, let segmentStart, let segmentEnd, let bdfStart, let bdfEnd, let output) = node.kind else { continue }
            if segmentStart > segmentEnd || bdfStart > bdfEnd { fatalError("VIOT PCI range accepted backwards") }
            _ = table.node(at: output)
        }
    },
    "dt_property": { bytes in
        // One property's bytes read every way the reader reads a property: what is accepted is the
        // whole input, and prints back to the same bytes.
        let cells = try? DeviceTreePropertyParser.cells(bytes)
        if let cells, cells.count * 4 != bytes.count { fatalError("cells lost bytes") }
        if let cell = try? DeviceTreePropertyParser.cell(bytes), bytes.count != 4 || cells != [cell] {
            fatalError("one cell of \(bytes.count) bytes")
        }
        if let map = try? DeviceTreePropertyParser.iommuMap(bytes) {
            guard let cells, !map.isEmpty, map.count * 4 == cells.count else { fatalError("iommu-map entries are not four cells each") }
            if map.flatMap({ [$0.ridBase, $0.phandle, $0.iommuBase, $0.length] }) != cells { fatalError("iommu-map round trip differs") }
        }
        if let strings = try? DeviceTreePropertyParser.strings(bytes) {
            if strings.contains(where: { $0.isEmpty || !$0.utf8.allSatisfy { (0x20..<0x7f).contains($0) } }) {
                fatalError("a string property with an empty string or a control byte accepted")
            }
            if Array(strings.map { $0 + "\0" }.joined().utf8) != bytes { fatalError("strings round trip differs") }
        }
    },
    "daemon_config": { bytes in
        // The text of one iommu-watch.conf (or drop-in), as ConfigLoader hands it to the parser.
        var config = DaemonConfig()
        do throws(ConfigError) {
            try ConfigParser.apply(String(decoding: bytes, as: UTF8.self), file: "fuzz.conf", to: &config)
        } catch {
            if error.line < 1 { fatalError("config error without a line: \(error)") }
            return
        }
        // What the parser accepts, the documented bounds hold for (docs/configuration.md).
        if config.rescanInterval != 0 && config.rescanInterval < 10 * Microseconds.millisecond {
            fatalError("rescan interval below 10 ms accepted")
        }
        if config.debounce > 60 * Microseconds.second { fatalError("debounce above 60 s accepted") }
        if let file = config.prometheusFile, !(file.hasPrefix("/") && file.hasSuffix(".prom")) { fatalError("bad PrometheusFile accepted") }
        _ = config.suppressions.map(\.description)
        _ = RescanSchedule(config: config, now: 0).deadline
    },
    "json": { bytes in
        // The strict reader of the daemon's state file, which a local user could tamper with (status
        // reads it), under limits small enough that the fuzzer reaches them.
        let limits = JSONReader.Limits(bytes: 16384, depth: 8, values: 512)
        guard let value = try? JSONReader.parse(bytes, file: "fuzz.json", limits: limits) else { return }
        func measure(_ value: JSONValue, depth: Int) -> (depth: Int, values: Int) {
            switch value {
            case .array(let items):
                let inner = items.map { measure($0, depth: depth + 1) }
                return (inner.map(\.depth).max() ?? depth + 1, inner.reduce(1) { $0 + $1.values })
            case .object(let fields):
                let inner = fields.values.map { measure($0, depth: depth + 1) }
                return (inner.map(\.depth).max() ?? depth + 1, inner.reduce(1) { $0 + $1.values })
            default:
                return (depth, 1)
            }
        }
        let (depth, values) = measure(value, depth: 0)
        if depth > limits.depth { fatalError("accepted nesting \(depth) past the limit") }
        if values > limits.values { fatalError("accepted \(values) values past the limit") }
        if (try? JSONReader.parse(bytes, file: "fuzz.json", limits: limits)) != value { fatalError("the same bytes parsed twice differ") }
    },
    "uevent": { bytes in
        // There is no parser of uevent properties as bytes: libsystemd's sd_device_monitor decodes the
        // netlink message and the daemon keeps only the action (an enum, named by EventSources) and
        // the sysname, then feeds the rescan schedule. So this drives what does exist: a sequence of
        // (action, time step) events and rescans through RescanSchedule under a fuzzed configuration,
        // checking that a burst never postpones its rescan past its limit and a rescan consumes it.
        guard bytes.count >= 2 else { return }
        var config = DaemonConfig()
        config.debounce = UInt64(bytes[0]) * 50 * Microseconds.millisecond / 16
        config.rescanInterval = bytes[1] & 1 == 0 ? 0 : 10 * Microseconds.millisecond + UInt64(bytes[1]) * 100 * Microseconds.millisecond
        let actions = ["add", "remove", "bind", "unbind", "change", "move", "online", "offline", "unknown"]
        let relevant: Set<String> = ["add", "remove", "bind", "unbind", "change", "move"]
        var now: Microseconds = 1_000_000
        var schedule = RescanSchedule(config: config, now: now)
        for byte in bytes.dropFirst(2) {
            now += UInt64(byte >> 4) * UInt64(byte >> 4) * 7_919
            let action = actions[Int(byte & 0x0f) % actions.count]
            if byte & 0x0f == 0x0f {
                // The config is reloaded (SIGHUP) mid-burst: the burst must survive.
                let burst = schedule.burstStart
                schedule.reconfigure(config, now: now)
                if schedule.burstStart != burst { fatalError("reload lost the burst") }
            } else if relevant.contains(action) {
                schedule.deviceEvent(at: now)
            }
            if let start = schedule.burstStart, let deadline = schedule.deadline, deadline > start + config.debounceLimit {
                fatalError("burst postponed its rescan past the limit")
            }
            if schedule.isDue(at: now) {
                schedule.rescanned(at: now)
                if schedule.burstStart != nil || schedule.isDue(at: now) { fatalError("rescan did not consume the burst") }
            }
        }
    },
]

nonisolated(unsafe) var selectedTarget: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> Int32 {
    guard let name = getenv("IOMMU_WATCH_FUZZ_TARGET").map({ String(cString: $0) }), let target = fuzzTargets[name] else {
        let names = fuzzTargets.keys.sorted().joined(separator: " ")
        fputs("set IOMMU_WATCH_FUZZ_TARGET to one of: \(names)\n", stderr)
        exit(2)
    }
    selectedTarget = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    selectedTarget?(bytes)
    return 0
}
