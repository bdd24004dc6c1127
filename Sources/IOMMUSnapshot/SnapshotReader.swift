/// Walks a filesystem root (`sys/`, `proc/`, optionally `boot/`) into a `Snapshot`.
///
/// Reads only; never judges. One broken group or device adds an entry to `errors` and the walk goes
/// on. The only failure is a root that cannot be read at all.
public struct SnapshotReader {
    /// Largest text attribute we accept; real ones are a line.
    static let attributeLimit = 4096
    /// `reserved_regions` of a group with many RMRRs stays far below this.
    static let regionsLimit = 64 * 1024
    /// PCIe configuration space.
    static let configLimit = 4096
    /// ACPI tables: a DMAR or IVRS table of a large server is a few KiB.
    static let tableLimit = 1 << 20

    public static let groupsFolder = "sys/kernel/iommu_groups"
    public static let pciDevicesFolder = "sys/bus/pci/devices"
    public static let iommuClassFolder = "sys/class/iommu"

    private let fileSystem: RootFileSystem
    private var errors: [ReadError] = []
    /// Asked between devices and between groups; true ends the walk (the daemon's SIGTERM).
    private let shouldStop: () -> Bool
    private var interrupted = false

    /// Reads the root at `path`. Throws when the root cannot be opened or holds no `sys/`, and with
    /// `interrupted` when `shouldStop` said so before the walk was done.
    public static func read(root path: String, recorder: ReadRecorder? = nil, shouldStop: @escaping () -> Bool = { false })
        throws(ReadError) -> Snapshot
    {
        let fileSystem = try RootFileSystem(root: path)
        fileSystem.recorder = recorder
        switch fileSystem.openFolder("sys") {
        case .success(.some): break
        case .success(.none): throw ReadError(path: path, kind: .malformed(reason: "holds no sys/ folder; not a Linux root"))
        // Say what the kernel said: a seccomp filter refusing openat2 (EPERM) must not pass for a missing folder.
        case .failure(let error): throw ReadError(path: path + "/sys", kind: error.kind)
        }
        var reader = SnapshotReader(fileSystem: fileSystem, shouldStop: shouldStop)
        let snapshot = reader.read()
        if reader.interrupted { throw ReadError(path: path, kind: .interrupted) }
        return snapshot
    }

    init(fileSystem: RootFileSystem, shouldStop: @escaping () -> Bool = { false }) {
        self.fileSystem = fileSystem
        self.shouldStop = shouldStop
    }

    /// True once `shouldStop` has said so; the walk then reads nothing more.
    private mutating func stopping() -> Bool {
        if !interrupted && shouldStop() { interrupted = true }
        return interrupted
    }

    mutating func read() -> Snapshot {
        var snapshot = Snapshot()
        snapshot.kernel = readKernel()
        // The build configuration: Debian ships boot/config-<release>; kernels built with
        // CONFIG_IKCONFIG_PROC carry it in proc/config.gz.
        if let release = snapshot.kernel.release {
            snapshot.kernelConfig = parsed("boot/config-" + release, limit: Self.tableLimit, required: false, KernelConfigParser.parse)
        }
        if snapshot.kernelConfig == nil {
            snapshot.kernelConfig = parsed("proc/config.gz", limit: Self.tableLimit, required: false) { bytes throws(ParseError) in
                try KernelConfigParser.parse(try GzipDecoder.decompress(bytes))
            }
        }
        snapshot.memory = parsed("proc/iomem", limit: Self.regionsLimit * 4, required: false, IOMemParser.parse) ?? PhysicalMemoryLayout()
        snapshot.firmware = FirmwareTables(
            dmar: readTable("DMAR"), ivrs: readTable("IVRS"), iort: readTable("IORT"), viot: readTable("VIOT"))
        snapshot.firmware.deviceTree = readDeviceTree()
        snapshot.platform = readPlatform()
        snapshot.iommus = readIOMMUs()
        snapshot.pciDevices = readPCIDevices()
        let pciNames = Set(snapshot.pciDevices.map { $0.address.description })
        switch fileSystem.list(Self.groupsFolder) {
        case .success(nil): snapshot.hasIOMMUGroupsFolder = false
        case .success(let names?):
            var groups: [IOMMUGroup] = []
            for name in names {
                if stopping() { break }
                if let group = readGroup(name, pciNames: pciNames) { groups.append(group) }
            }
            snapshot.groups = groups.sorted { $0.id < $1.id }
        case .failure(let error): errors.append(error)
        }
        snapshot.errors = errors
        return snapshot
    }

    // MARK: kernel

    private mutating func readKernel() -> KernelInfo {
        var kernel = parsed("proc/version", limit: Self.attributeLimit, required: true, ProcVersionParser.parse) ?? KernelInfo()
        kernel.commandLine = parsed("proc/cmdline", limit: Self.attributeLimit, required: true, ProcCmdlineParser.parse)
        return kernel
    }

    private mutating func readTable(_ name: String) -> FirmwareTable? {
        let path = "sys/firmware/acpi/tables/" + name
        switch fileSystem.readFile(path, limit: Self.tableLimit) {
        case .success(nil): return nil
        case .success(let bytes?): return FirmwareTable(bytes: bytes)
        case .failure(let error):
            errors.append(error)
            return FirmwareTable(bytes: nil)
        }
    }

    // MARK: platform

    /// Optional everywhere: a root without these files (a capture, a container) is simply silent.
    private mutating func readPlatform() -> PlatformFacts {
        var facts = PlatformFacts()
        facts.interrupts = parsed("proc/interrupts", limit: RootFileSystem.bufferSize, required: false, ProcInterruptsParser.parse)
        // Listed (not just opened) so a copied tree has `dev/` too and says "absent", not "not known".
        if let dev = value(fileSystem.openFolder("dev")) ?? nil, value(dev.list(".")) != nil {
            facts.hasIOMMUFD = dev.notesPresence("iommu")
            // Counted through `notesPresence`, so a copied tree holds as many placeholders.
            if let devices = value(fileSystem.openFolder("dev/vfio/devices")) ?? nil, let names = value(devices.list(".")) ?? nil {
                facts.vfioDeviceFiles = names.filter { devices.notesPresence($0) }.count
            } else {
                facts.vfioDeviceFiles = 0
            }
        }
        if (value(fileSystem.list("sys/module")) ?? nil) != nil {
            facts.vfioLoaded = (value(fileSystem.list("sys/module/vfio")) ?? nil) != nil
        }
        if facts.vfioLoaded == true {
            facts.vfioNoIOMMUMode = parsed(
                "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", limit: Self.attributeLimit, required: false,
                SysfsAttributeParser.flag)
        }
        facts.vfioAllowUnsafeInterrupts = parsed(
            "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", limit: Self.attributeLimit, required: false,
            SysfsAttributeParser.flag)
        let thunderbolt = "sys/bus/thunderbolt/devices"
        for name in (value(fileSystem.list(thunderbolt)) ?? nil) ?? [] where name.hasPrefix("domain") {
            let path = thunderbolt + "/" + name + "/iommu_dma_protection"
            if let on = parsed(path, limit: Self.attributeLimit, required: false, SysfsAttributeParser.flag) {
                facts.thunderboltDMAProtection[name] = on
            }
        }
        if let mounts = parsed("proc/self/mountinfo", limit: RootFileSystem.bufferSize, required: false, MountInfoParser.parse),
            let root = mounts.last(where: { $0.mountPoint == "/" })
        {
            facts.rootFilesystem = HostDependency(
                name: root.source, devices: blockDeviceFunctions("sys/dev/block/\(root.major):\(root.minor)", depth: 3))
        }
        if let interfaces = parsed(
            "proc/net/route", limit: RootFileSystem.bufferSize, required: false, RouteTableParser.defaultRouteInterfaces)
        {
            facts.defaultRoute = interfaces.prefix(8).map { HostDependency(name: $0, devices: netInterfaceFunctions($0, depth: 3)) }
        }
        return facts
    }

    /// The PCI function closest to a block device (the disk's controller), following `slaves`
    /// of device-mapper and md devices down to their disks.
    private mutating func blockDeviceFunctions(_ link: String, depth: Int) -> [PCIAddress] {
        guard depth > 0, let path = resolvedLink(link) else { return [] }
        if let controller = Self.lastPCIFunction(in: path) { return [controller] }
        let slaves = (value(fileSystem.list(path + "/slaves")) ?? nil) ?? []
        return Self.unique(slaves.prefix(16).flatMap { blockDeviceFunctions(path + "/slaves/" + $0, depth: depth - 1) })
    }

    /// The PCI functions under a network interface: its `device`, or those of its bridge ports
    /// (`brif/`) and bond or team members (`lower_*`).
    private mutating func netInterfaceFunctions(_ interface: String, depth: Int) -> [PCIAddress] {
        // A kernel interface name has no slash; RootFileSystem would confine one anyway (its own tests).
        guard depth > 0, !interface.contains("/"), interface != "..", let path = resolvedLink("sys/class/net/" + interface) else {
            return []
        }
        if let device = resolvedLink(path + "/device"), let function = Self.lastPCIFunction(in: device) { return [function] }
        var below = (value(fileSystem.list(path + "/brif")) ?? nil) ?? []
        below += ((value(fileSystem.list(path)) ?? nil) ?? []).filter { $0.hasPrefix("lower_") }.map { String($0.dropFirst(6)) }
        return Self.unique(below.prefix(16).flatMap { netInterfaceFunctions($0, depth: depth - 1) })
    }

    /// Where the link at `path` points, as a root-relative path; nil when absent or escaping.
    private mutating func resolvedLink(_ path: String) -> String? {
        guard let target = value(fileSystem.readLink(path)) ?? nil else { return nil }
        return value(RootFileSystem.resolve(link: path, target: target))
    }

    static func lastPCIFunction(in path: String) -> PCIAddress? {
        PathComponents.split(path).reversed().lazy.compactMap { $0.utf8.count >= 12 ? PCIAddress($0) : nil }.first
    }

    static func unique(_ addresses: [PCIAddress]) -> [PCIAddress] {
        var seen: Set<PCIAddress> = []
        return addresses.filter { seen.insert($0).inserted }
    }

    /// The device tree's IOMMU nodes, PCI host bridges and `iommus` users, from the top level and
    /// one level below (`soc/`), where Arm boards put them; nil without a device tree.
    private mutating func readDeviceTree() -> DeviceTreeIOMMUs? {
        let base = "sys/firmware/devicetree/base"
        guard let folder = value(fileSystem.openFolder(base)) ?? nil, let nodes = value(folder.list(".")) ?? nil else { return nil }
        var tree = DeviceTreeIOMMUs()
        var looked = 0
        for node in nodes where folder.containsFolder(node) {
            guard looked < Self.deviceTreeNodeLimit else { break }
            looked += 1
            // One node that cannot be opened (its error is recorded) does not end the walk.
            guard let child = value(folder.openFolder(node)) ?? nil else { continue }
            readDeviceTreeNode(child, path: node, into: &tree)
            for grandchild in (value(child.list(".")) ?? nil) ?? []
            where looked < Self.deviceTreeNodeLimit && child.containsFolder(grandchild) {
                looked += 1
                guard let inner = value(child.openFolder(grandchild)) ?? nil else { continue }
                readDeviceTreeNode(inner, path: node + "/" + grandchild, into: &tree)
            }
        }
        return tree
    }

    /// A real tree has a few hundred nodes at these two levels.
    static let deviceTreeNodeLimit = 512
    /// `iommu-map` of a large server is a few hundred bytes.
    static let deviceTreePropertyLimit = 64 * 1024

    private mutating func readDeviceTreeNode(_ node: RootFileSystem.Folder, path: String, into tree: inout DeviceTreeIOMMUs) {
        func property<T>(_ name: String, _ parse: ([UInt8]) throws(ParseError) -> T) -> T? {
            guard node.contains(name) else { return nil }
            return parsed(
                node.readFile(name, limit: Self.deviceTreePropertyLimit), path: node.path + "/" + name, required: false, parse)
        }
        if node.notesPresence("#iommu-cells") {
            tree.iommus.append(
                DeviceTreeIOMMUs.IOMMUNode(
                    path: path, phandle: property("phandle", DeviceTreePropertyParser.cell),
                    compatible: property("compatible", DeviceTreePropertyParser.strings) ?? []))
        }
        if property("device_type", DeviceTreePropertyParser.strings)?.first == "pci" {
            let host = DeviceTreeIOMMUs.PCIHost(
                path: path, domain: property("linux,pci-domain", DeviceTreePropertyParser.cell),
                iommuMap: property("iommu-map", DeviceTreePropertyParser.iommuMap),
                iommuMapMask: property("iommu-map-mask", DeviceTreePropertyParser.cell))
            tree.pciHosts.append(host)
            if node.contains("iommu-map") || node.notesPresence("iommus") { tree.users.append(path) }
        } else if node.notesPresence("iommu-map") || node.notesPresence("iommus") {
            tree.users.append(path)
        }
    }

    // MARK: IOMMU units

    private mutating func readIOMMUs() -> [IOMMUUnit] {
        guard let names = value(fileSystem.list(Self.iommuClassFolder)) ?? nil else { return [] }
        return names.compactMap { name -> IOMMUUnit? in
            guard let folder = followLink(Self.iommuClassFolder + "/" + name) else { return nil }
            // Listed so a copied tree holds the unit's folder even where no file in it is read (Arm
            // SMMU and virtio-iommu units show no register files): the link then resolves on replay.
            _ = value(folder.list("."))
            if folder.contains("intel-iommu") {
                return IOMMUUnit(
                    name: name,
                    driver: .intel(
                        capability: register(folder, "intel-iommu/cap"),
                        extendedCapability: register(folder, "intel-iommu/ecap")))
            }
            if folder.contains("amd-iommu") {
                return IOMMUUnit(
                    name: name,
                    driver: .amd(
                        capability: register(folder, "amd-iommu/cap"),
                        features: parsed(
                            fileSystem.readFile(folder.path + "/amd-iommu/features", limit: Self.attributeLimit),
                            path: folder.path + "/amd-iommu/features", required: true, SysfsAttributeParser.hexRegisters)))
            }
            // A tree without the attribute folder (a converted report; git keeps no empty folder):
            // the drivers name their units `dmarN` (Intel) and `ivhdN` (AMD), and nothing else does.
            // Arm's drivers name units after the SMMU's address; virtio-iommu's sits below its virtio device.
            if name.hasPrefix("smmu3.") { return IOMMUUnit(name: name, driver: .armSMMUv3) }
            if name.hasPrefix("smmu.") { return IOMMUUnit(name: name, driver: .armSMMU) }
            if PathComponents.split(folder.path).contains(where: { $0.hasPrefix("virtio") && $0.dropFirst(6).allSatisfy(\.isNumber) }) {
                return IOMMUUnit(name: name, driver: .virtio)
            }
            if name.hasPrefix("dmar") { return IOMMUUnit(name: name, driver: .intel(capability: nil, extendedCapability: nil)) }
            if name.hasPrefix("ivhd") { return IOMMUUnit(name: name, driver: .amd(capability: nil, features: nil)) }
            return IOMMUUnit(name: name, driver: .other)
        }
    }

    private mutating func register(_ folder: RootFileSystem.Folder, _ name: String) -> UInt64? {
        parsed(
            fileSystem.readFile(folder.path + "/" + name, limit: Self.attributeLimit), path: folder.path + "/" + name, required: true,
            SysfsAttributeParser.hexRegister)
    }

    // MARK: PCI devices

    private mutating func readPCIDevices() -> [PCIDevice] {
        guard let busFolder = value(fileSystem.openFolder(Self.pciDevicesFolder)) ?? nil,
            let names = value(busFolder.list(".")) ?? nil
        else { return [] }
        var devices: [PCIDevice] = []
        devices.reserveCapacity(names.count)
        for name in names {
            if stopping() { break }
            let linkPath = Self.pciDevicesFolder + "/" + name
            guard let address = PCIAddress(name) else {
                errors.append(ReadError(path: linkPath, kind: .malformed(reason: "not a PCI address (dddd:bb:dd.f)")))
                continue
            }
            guard let folder = followLink(name, in: busFolder) else { continue }
            var device = PCIDevice(address: address, path: folder.path, upstream: Self.upstream(of: folder.path, below: address))
            for attribute in PCIAttribute.table {
                guard
                    let bytes = contents(
                        folder.readFile(attribute.file, limit: attribute.limit), path: folder.path + "/" + attribute.file,
                        required: attribute.required)
                else { continue }
                decoded(folder.path + "/" + attribute.file) { () throws(ParseError) in try attribute.apply(&device, bytes) }
            }
            device.driver = linkBasename(folder, "driver")
            // An IOMMU that is itself a PCI function (AMD's, class 0x0806) holds its unit as a folder
            // `iommu/ivhd0` where other devices have the `iommu` link: it is not translated by one.
            device.iommu = folder.containsFolder("iommu") ? nil : linkBasename(folder, "iommu")
            if let group = linkBasename(folder, "iommu_group") {
                if let id = Int(group), id >= 0 {
                    device.iommuGroup = id
                } else {
                    errors.append(
                        ReadError(path: folder.path + "/iommu_group", kind: .malformed(reason: "link does not end in a group number")))
                }
            }
            devices.append(device)
        }
        return devices
    }

    /// The PCI functions named in a device path above the device itself:
    /// `sys/devices/pci0000:00/0000:00:05.0/0000:02:01.0` → [0000:00:05.0].
    static func upstream(of path: String, below address: PCIAddress) -> [PCIAddress] {
        PathComponents.split(path).compactMap { component in
            component.utf8.count >= 12 ? PCIAddress(component) : nil
        }.filter { $0 != address }
    }

    /// The last component of a link's target (a driver's or a group's name). A target that would
    /// leave the root is refused here too, although nothing follows it: no kernel link needs one.
    private mutating func linkBasename(_ folder: RootFileSystem.Folder, _ name: String) -> String? {
        guard let target = value(folder.readLink(name)) ?? nil else { return nil }
        guard value(RootFileSystem.resolve(link: folder.path + "/" + name, target: target)) != nil else { return nil }
        return PathComponents.basename(target)
    }

    // MARK: groups

    private mutating func readGroup(_ name: String, pciNames: Set<String>) -> IOMMUGroup? {
        let path = Self.groupsFolder + "/" + name
        guard let id = Int(name), id >= 0, String(id) == name else {
            errors.append(ReadError(path: path, kind: .malformed(reason: "not a group number")))
            return nil
        }
        guard let folder = required(fileSystem.openFolder(path), path: path) else { return nil }
        let type: GroupTypeReading =
            parsed(folder.readFile("type", limit: Self.attributeLimit), path: path + "/type", required: false, GroupTypeParser.parse)
            ?? .absent
        let parsedRegions = parsed(
            // Absent from partial trees (and before 4.11): the reconciler asks about it once for all groups.
            folder.readFile("reserved_regions", limit: Self.regionsLimit), path: path + "/reserved_regions", required: false,
            ReservedRegionsParser.parse)
        let regions = parsedRegions ?? []
        let groupName: Substring? = parsed(
            folder.readFile("name", limit: Self.attributeLimit), path: path + "/name", required: false, SysfsText.singleLine)
        var members: [GroupMember] = []
        let devicesPath = path + "/devices"
        guard let devicesFolder = required(folder.openFolder("devices"), path: devicesPath),
            let names = required(devicesFolder.list("."), path: devicesPath)
        else {
            var group = IOMMUGroup(id: id, type: type, reservedRegions: regions, name: groupName.map(String.init), members: [])
            group.reservedRegionsReadable = parsedRegions != nil
            return group
        }
        for memberName in names {
            let linkPath = devicesPath + "/" + memberName
            guard let target = required(devicesFolder.readLink(memberName), path: linkPath) else { continue }
            guard let memberPath = value(RootFileSystem.resolve(link: linkPath, target: target)) else { continue }
            let bus: String
            if pciNames.contains(memberName) {
                bus = "pci"
            } else {
                let subsystem = value(fileSystem.readLink(memberPath + "/subsystem")) ?? nil
                bus = subsystem.flatMap(PathComponents.basename) ?? "unknown"
            }
            members.append(GroupMember(name: memberName, bus: bus, path: memberPath))
        }
        var group = IOMMUGroup(id: id, type: type, reservedRegions: regions, name: groupName.map(String.init), members: members)
        group.reservedRegionsReadable = parsedRegions != nil
        return group
    }

    // MARK: plumbing

    /// Reads the link `name` in `folder` and opens the folder it points to, inside the root.
    private mutating func followLink(_ name: String, in folder: RootFileSystem.Folder) -> RootFileSystem.Folder? {
        followLink(folder.path + "/" + name, target: folder.readLink(name))
    }

    /// Reads the link at `path` and opens the folder it points to, inside the root.
    private mutating func followLink(_ path: String) -> RootFileSystem.Folder? {
        followLink(path, target: fileSystem.readLink(path))
    }

    private mutating func followLink(_ path: String, target: Result<String?, ReadError>) -> RootFileSystem.Folder? {
        guard let target = required(target, path: path) else { return nil }
        guard let resolved = value(RootFileSystem.resolve(link: path, target: target)) else { return nil }
        switch fileSystem.openFolder(resolved) {
        case .success(let folder?): return folder
        case .success(nil):
            errors.append(ReadError(path: path, kind: .danglingLink(target: target)))
            return nil
        case .failure(let error):
            errors.append(error.kind == .missing ? ReadError(path: path, kind: .danglingLink(target: target)) : error)
            return nil
        }
    }

    /// The success value, or nil after recording the error.
    private mutating func value<T>(_ result: Result<T, ReadError>) -> T? {
        switch result {
        case .success(let value): return value
        case .failure(let error):
            errors.append(error)
            return nil
        }
    }

    /// The value of something that must exist: absence is recorded as `missing` against `path`.
    private mutating func required<T>(_ result: Result<T?, ReadError>, path: @autoclosure () -> String) -> T? {
        guard let found = value(result) else { return nil }
        if found == nil { errors.append(ReadError(path: path(), kind: .missing)) }
        return found
    }

    private mutating func parsed<T>(_ path: String, limit: Int, required: Bool, _ parse: ([UInt8]) throws(ParseError) -> T) -> T? {
        parsed(fileSystem.readFile(path, limit: limit), path: path, required: required, parse)
    }

    /// Reads, parses, and records a missing required file or a parse failure against `path`.
    private mutating func parsed<T>(
        _ result: Result<[UInt8]?, ReadError>, path: String, required mustExist: Bool, _ parse: ([UInt8]) throws(ParseError) -> T
    ) -> T? {
        guard let bytes = contents(result, path: path, required: mustExist) else { return nil }
        return decoded(path) { () throws(ParseError) in try parse(bytes) }
    }

    /// A file's bytes; a missing file is recorded only when it `mustExist`.
    private mutating func contents(_ result: Result<[UInt8]?, ReadError>, path: @autoclosure () -> String, required mustExist: Bool)
        -> [UInt8]?
    {
        mustExist ? required(result, path: path()) : value(result) ?? nil
    }

    /// Runs a parser, recording its complaint against `path`.
    @discardableResult
    private mutating func decoded<T>(_ path: @autoclosure () -> String, _ parse: () throws(ParseError) -> T) -> T? {
        do throws(ParseError) {
            return try parse()
        } catch {
            errors.append(ReadError(path: path(), kind: .malformed(reason: error.reason)))
            return nil
        }
    }
}

/// The files read from each PCI device folder: one line each, so adding an attribute is one line.
struct PCIAttribute: Sendable {
    let file: String
    let limit: Int
    let required: Bool
    let apply: @Sendable (inout PCIDevice, [UInt8]) throws(ParseError) -> Void

    init(
        _ file: String, limit: Int = SnapshotReader.attributeLimit, required: Bool = true,
        _ apply: @escaping @Sendable (inout PCIDevice, [UInt8]) throws(ParseError) -> Void
    ) {
        self.file = file
        self.limit = limit
        self.required = required
        self.apply = apply
    }

    /// Required: what identifies the device and what the grouping rules read. The rest is optional: a
    /// partial or converted tree may lack it, and a check that needs it says so where it matters
    /// (`Unverified`) instead of every device adding a "Could not read" line.
    static let table: [PCIAttribute] = [
        PCIAttribute("vendor") { device, bytes throws(ParseError) in
            device.vendorID = UInt16(try SysfsAttributeParser.hexID(bytes, bits: 16))
        },
        PCIAttribute("device") { device, bytes throws(ParseError) in
            device.deviceID = UInt16(try SysfsAttributeParser.hexID(bytes, bits: 16))
        },
        PCIAttribute("class") { device, bytes throws(ParseError) in
            device.classCode = UInt32(try SysfsAttributeParser.hexID(bytes, bits: 24))
        },
        PCIAttribute("subsystem_vendor", required: false) { device, bytes throws(ParseError) in
            device.subsystemVendorID = UInt16(try SysfsAttributeParser.hexID(bytes, bits: 16))
        },
        PCIAttribute("subsystem_device", required: false) { device, bytes throws(ParseError) in
            device.subsystemDeviceID = UInt16(try SysfsAttributeParser.hexID(bytes, bits: 16))
        },
        PCIAttribute("revision", required: false) { device, bytes throws(ParseError) in
            device.revision = UInt8(try SysfsAttributeParser.hexID(bytes, bits: 8))
        },
        PCIAttribute("dma_mask_bits", required: false) { device, bytes throws(ParseError) in
            device.dmaMaskBits = try SysfsAttributeParser.decimal(bytes, range: 0...64)
        },
        PCIAttribute("consistent_dma_mask_bits", required: false) { device, bytes throws(ParseError) in
            device.consistentDMAMaskBits = try SysfsAttributeParser.decimal(bytes, range: 0...64)
        },
        // `removable` came with 5.12; older kernels simply lack it.
        PCIAttribute("removable", required: false) { device, bytes throws(ParseError) in
            device.removable = try SysfsAttributeParser.removable(bytes)
        },
        // Only VGA-class devices have it.
        PCIAttribute("boot_vga", required: false) { device, bytes throws(ParseError) in
            device.bootVGA = try SysfsAttributeParser.flag(bytes)
        },
        PCIAttribute("config", limit: SnapshotReader.configLimit) { device, bytes throws(ParseError) in
            device.config = try PCIConfigSpaceParser.parse(bytes)
        },
    ]
}
