// libFuzzer entry for every parser of the reader. One binary; the target is chosen by
// IOMMU_WATCH_FUZZ_TARGET so one build serves all. A parser may reject input (ParseError) but must
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
    "kernel_config": { bytes in _ = try? KernelConfigParser.parse(bytes) },
    "attribute": { bytes in
        _ = try? SysfsAttributeParser.hexID(bytes, bits: 16)
        _ = try? SysfsAttributeParser.decimal(bytes, range: 0...64)
        _ = try? SysfsAttributeParser.removable(bytes)
        _ = try? SysfsAttributeParser.hexRegister(bytes)
        _ = try? SysfsAttributeParser.hexRegisters(bytes)
        _ = PCIAddress(String(decoding: bytes, as: UTF8.self))
        _ = KernelVersion(release: String(decoding: bytes, as: UTF8.self))
    },
]

nonisolated(unsafe) var selectedTarget: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
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
