import IOMMUSnapshot

/// The PCI facts the kernel's grouping code looks at, indexed once: ACS, port types, multifunction
/// bits, the bridge above each device. Answers the questions `drivers/pci/pci.c` and
/// `drivers/pci/search.c` answer inside the kernel.
public struct PCITopology: Sendable {
    public let devices: [PCIAddress: PCIDevice]
    /// Probe order: bus by bus, as `pci_bus_add_devices()` registers them (address order here).
    public let probeOrder: [PCIAddress]
    let childBus: [PCIAddress: UInt8]
    let quirks: ACSQuirks

    /// `REQ_ACS_FLAGS` in drivers/iommu/iommu.c: SV | RR | CR | UF.
    public static let requiredACSFlags: UInt16 =
        ACSCapability.sourceValidation | ACSCapability.requestRedirect
        | ACSCapability.completionRedirect | ACSCapability.upstreamForwarding

    public init(_ devices: [PCIDevice], quirks: ACSQuirks = ACSQuirks()) {
        var index: [PCIAddress: PCIDevice] = [:]
        var childBus: [PCIAddress: UInt8] = [:]
        for device in devices {
            index[device.address] = device
            if let parent = device.parent { childBus[parent] = device.address.bus }
        }
        self.devices = index
        self.childBus = childBus
        self.quirks = quirks
        self.probeOrder = devices.map(\.address).sorted()
    }

    public func device(_ address: PCIAddress) -> PCIDevice? { devices[address] }

    /// The bridge whose secondary bus the device sits on; nil on a root bus.
    public func bridge(above address: PCIAddress) -> PCIAddress? { devices[address]?.parent }

    /// Whether the kernel could see this device's capabilities. With 64 bytes of config space (an
    /// unprivileged read) we cannot tell PCIe from PCI nor see ACS, so predictions involving it are guesses.
    public func canSeeCapabilities(_ address: PCIAddress) -> Bool {
        guard let config = devices[address]?.config else { return false }
        return !config.isTruncated
    }

    public func portType(_ address: PCIAddress) -> PCIExpressPortType? { devices[address]?.config?.express?.portType }
    public func isPCIe(_ address: PCIAddress) -> Bool { devices[address]?.config?.express != nil }
    /// `pdev->multifunction`: the header-type bit, or any function above 0 — `pci_scan_slot()` sets
    /// `dev->multifunction = 1` for every `fn > 0` whatever its own header says (QEMU's second functions
    /// carry no bit, and the kernel still groups them with function 0). Function 0 of a slot where
    /// other functions exist is multifunction too, by definition, even when its header is unreadable.
    public func isMultifunction(_ address: PCIAddress) -> Bool {
        if address.function > 0 || devices[address]?.config?.isMultifunction == true { return true }
        return (1...7).contains { function in
            var sibling = address
            sibling.function = UInt8(function)
            return devices[sibling] != nil
        }
    }

    /// The secondary bus of a bridge, as seen from the devices found behind it.
    public func secondaryBus(of bridge: PCIAddress) -> UInt8? { childBus[bridge] }

    /// Everything below `bridge`, at any depth.
    public func devices(below bridge: PCIAddress) -> [PCIAddress] {
        probeOrder.filter { devices[$0]?.upstream.contains(bridge) ?? false }
    }

    /// What `pci_acs_enabled(pdev, flags)` answers (drivers/pci/pci.c), with the reason in words when
    /// it says no.
    public func acsEnabled(_ address: PCIAddress, flags: UInt16 = requiredACSFlags) -> (enabled: Bool, why: String) {
        guard let device = devices[address] else { return (false, "\(address) is not in the snapshot") }
        if let quirk = quirks.answer(for: device, flags: flags, in: self) { return (quirk.enabled, quirk.name) }
        guard let config = device.config, !config.isTruncated else {
            return (false, "\(address)'s capabilities could not be read")
        }
        guard let express = config.express else { return (false, "\(address) is conventional PCI, which never isolates") }
        switch express.portType {
        case .pciToPCIeBridge, .pcieToPCIBridge, .rootComplexEventCollector:
            return (false, "\(address) is a \(express.portType?.kernelName ?? "bridge"), which the kernel never treats as isolating")
        case .downstreamPort, .rootPort:
            return flagsEnabled(config, flags, address)
        case .endpoint, .upstreamPort, .legacyEndpoint, .rootComplexIntegratedEndpoint:
            if !isMultifunction(address) { return (true, "") }
            return flagsEnabled(config, flags, address)
        case nil:
            return (true, "")
        }
    }

    /// `pci_acs_flags_enabled()`: controls the capability does not implement count as hard-wired on
    /// (`acs_flags &= (cap | PCI_ACS_EC)`).
    func flagsEnabled(_ config: PCIConfigSpace, _ flags: UInt16, _ address: PCIAddress) -> (enabled: Bool, why: String) {
        guard let acs = config.acs else {
            return (
                false,
                config.hasExtendedSpace
                    ? "\(address) has no ACS capability" : "\(address) shows no extended config space, so no ACS capability"
            )
        }
        let required = flags & (acs.capability | ACSCapability.egressControl)
        let missing = required & ~acs.control
        if missing == 0 { return (true, "") }
        return (false, "\(address)'s ACS control lacks \(ACSQuirks.names(of: missing))")
    }

    /// `pci_acs_path_enabled(start, NULL, flags)`: every bridge from `start` up to the root bus isolates.
    public func acsPathEnabled(from start: PCIAddress) -> (enabled: Bool, why: String) {
        var current: PCIAddress? = start
        var steps = 0
        while let address = current, steps < 256 {
            let answer = acsEnabled(address)
            if !answer.enabled { return answer }
            current = bridge(above: address)
            steps += 1
        }
        return (true, "")
    }

    /// How one hop of `pci_for_each_dma_alias()` aliases a device to a bridge above it.
    public enum AliasHop: Sendable, Hashable {
        /// A PCIe-to-PCI bridge: devices behind it use its secondary bus, devfn 0.
        case pcieToPCIBridge
        /// A PCI-X-to-PCIe bridge: its own requester id.
        case pciToPCIeBridge
        /// A conventional PCI bridge: its own requester id.
        case conventionalBridge
        /// A conventional bridge that `quirk_use_pcie_bridge_dma_alias` makes alias like a
        /// PCIe-to-PCI bridge (ASMedia 1080, Tundra Tsi381, ITE 8892/8893, Intel 82801).
        case quirkedAsPCIeToPCIBridge
    }

    /// The bridges whose requester id the device's DMA carries, nearest first
    /// (`pci_for_each_dma_alias()`: root, upstream and downstream ports are skipped; the bridge
    /// quirks of `DMAAliasQuirks` change a bridge's hop or end the walk).
    public func dmaAliasBridges(of address: PCIAddress) -> [(bridge: PCIAddress, hop: AliasHop)] {
        var result: [(PCIAddress, AliasHop)] = []
        for bridge in (devices[address]?.upstream ?? []).reversed() {
            guard let device = devices[bridge] else { continue }
            let flag = DMAAliasQuirks.bridgeFlag(of: device, release: quirks.release)
            if flag == .translationRoot { break }
            if isPCIe(bridge) {
                switch portType(bridge) {
                case .pcieToPCIBridge where flag != .noAlias: result.append((bridge, .pcieToPCIBridge))
                case .pciToPCIeBridge: result.append((bridge, .pciToPCIeBridge))
                default: continue
                }
            } else if flag == .pcieBridgeAlias {
                result.append((bridge, .quirkedAsPCIeToPCIBridge))
            } else if canSeeCapabilities(bridge) {
                result.append((bridge, .conventionalBridge))
            }
        }
        return result
    }
}
