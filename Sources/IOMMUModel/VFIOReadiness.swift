import IOMMUSnapshot

/// "Can I pass group N to a VM, and what must I unbind first": the kernel's rules for handing a whole
/// group to VFIO (docs/kernel-rules.md#v1, #v2) applied to the group as it is now, plus what the
/// host would lose.
public struct VFIOReadiness: Sendable, Hashable {
    public enum Verdict: String, Sendable, Hashable {
        /// Its endpoints are bound to VFIO and nothing else in the group stops the claim.
        case inUse = "in-use"
        /// Nothing stops a claim: bind the endpoints to vfio-pci.
        case ready
        /// Members are bound to host drivers that must let go first.
        case unbind
        /// The kernel of this release refuses the claim whatever is bound (a direct-mapped region).
        case blocked
        /// Nothing to hand over: no PCI endpoint (bridges only), or a vfio-noiommu group.
        case notApplicable = "not-applicable"
    }

    public struct Binding: Sendable, Hashable {
        public var device: PCIAddress
        public var driver: String

        public init(device: PCIAddress, driver: String) {
            self.device = device
            self.driver = driver
        }
    }

    public var verdict: Verdict
    /// Members bound to drivers that hold DMA ownership: unbind them (then bind to vfio-pci).
    public var mustUnbind: [Binding]
    /// Members whose driver does no DMA of its own and may stay (`pcieport`, `pci-stub`).
    public var mayStay: [Binding]
    /// Endpoints not yet bound to a VFIO driver.
    public var toBind: [PCIAddress]
    /// Why the kernel would refuse the claim.
    public var blockers: [String]
    /// What the host needs among the members: boot display, root filesystem disk, default-route NIC.
    public var hostNeeds: [String]

    /// Drivers that set `driver_managed_dma` (or, before the DMA-ownership API, were on VFIO's own
    /// allow-list): they do no DMA through the DMA API, so a group may be claimed while they stay bound.
    public static let acceptedHostDrivers: Set<String> = ["pcieport", "pci-stub"]

    /// Whether `driver` belongs to VFIO (`vfio-pci`, `vfio-pci-core` variants such as `mlx5_vfio_pci`).
    public static func isVFIO(_ driver: String) -> Bool { driver.hasPrefix("vfio") || driver.hasSuffix("_vfio_pci") }
}

extension Model {
    /// The readiness of the kernel's group `group` in `snapshot` under `rules`.
    public static func vfioReadiness(of group: IOMMUGroup, in snapshot: Snapshot, context: ModelContext) -> VFIOReadiness {
        let devices = group.pciMembers.compactMap(snapshot.device)
        var readiness = VFIOReadiness(verdict: .ready, mustUnbind: [], mayStay: [], toBind: [], blockers: [], hostNeeds: [])
        // Host and PCI-to-PCI bridges carry others' traffic; an ISA bridge is a device like any other.
        let isBridge = { (device: PCIDevice) in device.classCode.map { [0x0600, 0x0604, 0x0609].contains($0 >> 8) } ?? false }
        if group.isVFIONoIOMMU || devices.allSatisfy(isBridge) {
            readiness.verdict = .notApplicable
            return readiness
        }
        for device in devices {
            let isBridge = isBridge(device)
            switch device.driver {
            case let driver? where VFIOReadiness.isVFIO(driver):
                continue
            case let driver? where VFIOReadiness.acceptedHostDrivers.contains(driver):
                readiness.mayStay.append(.init(device: device.address, driver: driver))
            case let driver?:
                readiness.mustUnbind.append(.init(device: device.address, driver: driver))
                if !isBridge { readiness.toBind.append(device.address) }
            case nil:
                if !isBridge { readiness.toBind.append(device.address) }
            }
        }
        readiness.blockers = directRegionBlockers(group, devices: devices, context: context)
        readiness.hostNeeds = hostNeeds(devices, platform: snapshot.platform)
        if !readiness.blockers.isEmpty {
            readiness.verdict = .blocked
        } else if !readiness.mustUnbind.isEmpty {
            readiness.verdict = .unbind
        } else if readiness.toBind.isEmpty {
            readiness.verdict = devices.contains { $0.driver.map(VFIOReadiness.isVFIO) ?? false } ? .inUse : .ready
        }
        return readiness
    }

    /// docs/kernel-rules.md#v1: from 6.6 the core refuses any device with a `direct` region; up to 6.5
    /// only the Intel driver refused, for RMRR-locked devices (neither USB nor graphics).
    static func directRegionBlockers(_ group: IOMMUGroup, devices: [PCIDevice], context: ModelContext) -> [String] {
        let direct = group.reservedRegions.filter { $0.type == .direct }
        guard !direct.isEmpty else { return [] }
        let regions = direct.map { "`\($0.kernelLine)`" }.joined(separator: ", ")
        if context.rules.coreRefusesDirectRegionsForVFIO {
            return ["the direct-mapped region \(regions): from 6.6 the kernel refuses to give such a group to VFIO"]
        }
        guard case .intel? = context.defaultFamily else { return [] }
        let locked = devices.filter { device in
            let baseClass = device.classCode.map { $0 >> 16 }
            let isUSB = device.classCode.map { $0 >> 8 == 0x0c03 } ?? false
            return baseClass != 0x03 && !isUSB && baseClass != 0x06
        }
        guard !locked.isEmpty else { return [] }
        return [
            "the RMRR region \(regions): Intel kernels up to 6.5 refuse to attach \(locked.map(\.address.description).joined(separator: ", ")) to a VFIO domain"
        ]
    }

    /// Members the running host depends on.
    static func hostNeeds(_ devices: [PCIDevice], platform: PlatformFacts) -> [String] {
        var needs: [String] = []
        for device in devices where device.bootVGA == true {
            needs.append("\(device.address) is the boot display")
        }
        if let root = platform.rootFilesystem {
            for device in devices where root.devices.contains(device.address) {
                needs.append("\(device.address) holds the root filesystem (\(root.name))")
            }
        }
        for route in platform.defaultRoute ?? [] {
            for device in devices where route.devices.contains(device.address) {
                needs.append("\(device.address) carries the default route (\(route.name))")
            }
        }
        return needs
    }
}
