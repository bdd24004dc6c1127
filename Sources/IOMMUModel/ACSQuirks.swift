import IOMMUSnapshot

/// The kernel's ACS quirks: `pci_dev_acs_enabled[]` in drivers/pci/quirks.c, walked by
/// `pci_dev_specific_acs_enabled()` before `pci_acs_enabled()` looks at a device's own ACS
/// capability (docs/kernel-rules.md#g4). Entries are tried in the kernel's table order; the first
/// whose function answers decides, and a function that does not apply lets the walk go on.
///
/// Table as of the 7.0 merge window. Entries that arrived after 5.10 carry their release; the rest
/// predate every release the model knows.
public struct ACSQuirks: Sendable, Hashable {
    public struct Answer: Sendable, Hashable {
        public var enabled: Bool
        /// The quirk function and why, in words: "pci_quirk_mf_endpoint_acs: 8086:1521 is a
        /// multifunction device whose vendor states its functions cannot reach each other".
        public var name: String
    }

    /// The kernel release: entries newer than it are not in its table.
    public var release: KernelVersion
    /// An ACPI IVRS table exists (`pci_quirk_amd_sb_acs` asks `acpi_get_table("IVRS")`).
    public var hasIVRS: Bool
    /// An IOMMU driver called `pci_request_acs()`, so `pci_enable_acs()` ran the Intel PCH enable
    /// quirks. True whenever the IOMMU is on, which is when the model predicts groups.
    public var acsRequested: Bool

    public init(release: KernelVersion = KernelRules.newestKnown, hasIVRS: Bool = false, acsRequested: Bool = true) {
        self.release = release
        self.hasIVRS = hasIVRS
        self.acsRequested = acsRequested
    }

    /// The quirk functions, one case each.
    public enum Quirk: String, Sendable, Hashable, CaseIterable {
        case amdSouthbridge = "pci_quirk_amd_sb_acs"
        case multifunctionEndpoint = "pci_quirk_mf_endpoint_acs"
        case intelRootComplexEndpoint = "pci_quirk_rciep_acs"
        case qualcommRootPort = "pci_quirk_qcom_rp_acs"
        case intelPCH = "pci_quirk_intel_pch_acs"
        case intelSPTPCH = "pci_quirk_intel_spt_pch_acs"
        case cavium = "pci_quirk_cavium_acs"
        case xgene = "pci_quirk_xgene_acs"
        case broadcomIProc = "pci_quirk_brcm_acs"
        case loongson = "pci_quirk_loongson_acs"
        case amazonAnnapurna = "pci_quirk_al_acs"
        case nxpRootPort = "pci_quirk_nxp_rp_acs"
        case zhaoxinPorts = "pci_quirk_zhaoxin_pcie_ports_acs"
        case wangxun = "pci_quirk_wangxun_nic_acs"
    }

    /// One line of `pci_dev_acs_enabled[]`; a nil device is `PCI_ANY_ID`.
    public struct Entry: Sendable, Hashable {
        public var vendor: UInt16
        public var device: UInt16?
        public var quirk: Quirk
        public var since: KernelVersion?

        init(_ vendor: UInt16, _ device: UInt16?, _ quirk: Quirk, since: KernelVersion? = nil) {
            self.vendor = vendor
            self.device = device
            self.quirk = quirk
            self.since = since
        }
    }

    /// `pci_dev_acs_enabled[]`, in the kernel's order.
    public static let table: [Entry] = [
        Entry(0x1002, 0x4385, .amdSouthbridge),  // SBx00 SMBus Controller
        Entry(0x1002, 0x439c, .amdSouthbridge),  // SB7x0/SB8x0/SB9x0 IDE Controller
        Entry(0x1002, 0x4383, .amdSouthbridge),  // SBx00 Azalia (Intel HDA)
        Entry(0x1002, 0x439d, .amdSouthbridge),  // SB7x0/SB8x0/SB9x0 LPC host controller
        Entry(0x1002, 0x4384, .amdSouthbridge),  // SBx00 PCI to PCI Bridge
        Entry(0x1002, 0x4399, .amdSouthbridge),  // SB7x0/SB8x0/SB9x0 USB OHCI2 Controller
        Entry(0x1022, 0x780f, .amdSouthbridge),  // [AMD] FCH PCI Bridge (bugzilla 81841)
        Entry(0x1022, 0x7809, .amdSouthbridge),  // [AMD] FCH USB OHCI Controller (bugzilla 81841)
        Entry(0x1924, 0x0903, .multifunctionEndpoint),  // Solarflare NICs (SFC9020/SFC9120/SFC9140 family)
        Entry(0x1924, 0x0923, .multifunctionEndpoint),  // Solarflare NICs (SFC9020/SFC9120/SFC9140 family)
        Entry(0x1924, 0x0a03, .multifunctionEndpoint),  // Solarflare NICs (SFC9020/SFC9120/SFC9140 family)
        Entry(0x8086, 0x10c6, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x10db, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x10dd, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x10e1, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x10f1, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x10f7, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x10f8, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x10f9, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x10fa, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x10fb, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x10fc, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x1507, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x1514, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x151c, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x1529, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x152a, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x154d, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x154f, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x1551, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x1558, .multifunctionEndpoint),  // Intel 10G NICs (82598/82599/X520/X540 family; no comment in source)
        Entry(0x8086, 0x1509, .multifunctionEndpoint),  // 82580
        Entry(0x8086, 0x150e, .multifunctionEndpoint),  // 82580
        Entry(0x8086, 0x150f, .multifunctionEndpoint),  // 82580
        Entry(0x8086, 0x1510, .multifunctionEndpoint),  // 82580
        Entry(0x8086, 0x1511, .multifunctionEndpoint),  // 82580
        Entry(0x8086, 0x1516, .multifunctionEndpoint),  // 82580
        Entry(0x8086, 0x1527, .multifunctionEndpoint),  // 82580
        Entry(0x8086, 0x10c9, .multifunctionEndpoint),  // 82576
        Entry(0x8086, 0x10e6, .multifunctionEndpoint),  // 82576
        Entry(0x8086, 0x10e7, .multifunctionEndpoint),  // 82576
        Entry(0x8086, 0x10e8, .multifunctionEndpoint),  // 82576
        Entry(0x8086, 0x150a, .multifunctionEndpoint),  // 82576
        Entry(0x8086, 0x150d, .multifunctionEndpoint),  // 82576
        Entry(0x8086, 0x1518, .multifunctionEndpoint),  // 82576
        Entry(0x8086, 0x1526, .multifunctionEndpoint),  // 82576
        Entry(0x8086, 0x10a7, .multifunctionEndpoint),  // 82575
        Entry(0x8086, 0x10a9, .multifunctionEndpoint),  // 82575
        Entry(0x8086, 0x10d6, .multifunctionEndpoint),  // 82575
        Entry(0x8086, 0x1521, .multifunctionEndpoint),  // I350
        Entry(0x8086, 0x1522, .multifunctionEndpoint),  // I350
        Entry(0x8086, 0x1523, .multifunctionEndpoint),  // I350
        Entry(0x8086, 0x1524, .multifunctionEndpoint),  // I350
        Entry(0x8086, 0x105e, .multifunctionEndpoint),  // 82571 (Quads omitted due to non-ACS switch)
        Entry(0x8086, 0x105f, .multifunctionEndpoint),  // 82571 (Quads omitted due to non-ACS switch)
        Entry(0x8086, 0x1060, .multifunctionEndpoint),  // 82571 (Quads omitted due to non-ACS switch)
        Entry(0x8086, 0x10d9, .multifunctionEndpoint),  // 82571 (Quads omitted due to non-ACS switch)
        Entry(0x8086, 0x15b7, .multifunctionEndpoint),  // I219
        Entry(0x8086, 0x15b8, .multifunctionEndpoint),  // I219
        Entry(0x8086, nil, .intelRootComplexEndpoint),  // every Intel device; the function itself filters to RCiEPs
        Entry(0x17cb, 0x0400, .qualcommRootPort),  // QCOM QDF2xxx root ports
        Entry(0x17cb, 0x0401, .qualcommRootPort),  // QCOM QDF2xxx root ports
        Entry(0x17cb, 0x0115, .qualcommRootPort, since: KernelVersion(6, 12)),  // QCOM SA8775P root port
        Entry(0x17cb, 0x0111, .qualcommRootPort, since: KernelVersion(7, 0)),  // QCOM Hamoa root port (7.0)
        Entry(0x17cb, 0x0120, .qualcommRootPort, since: KernelVersion(7, 0)),  // QCOM Glymur root port (7.0)
        Entry(0x1dbf, 0x0401, .qualcommRootPort),  // HXT SD4800 root ports; 'The ACS design is same as QCOM QDF2xxx'
        Entry(0x8086, nil, .intelPCH),  // Intel PCH root ports (function filters by pci_quirk_intel_pch_acs_ids[])
        Entry(0x8086, nil, .intelSPTPCH),  // Intel Sunrise/Union Point + 7th/8th gen mobile PCH root ports (function filters)
        Entry(0x19a2, 0x0710, .multifunctionEndpoint),  // Emulex BE3-R (vendor written as literal 0x19a2)
        Entry(0x10df, 0x0720, .multifunctionEndpoint),  // Emulex Skyhawk-R (vendor written as literal 0x10df)
        Entry(0x177d, nil, .cavium),  // Cavium ThunderX (function filters to root ports with listed IDs)
        Entry(0x177d, 0xa026, .multifunctionEndpoint),  // Cavium multi-function devices
        Entry(0x177d, 0xa059, .multifunctionEndpoint),  // Cavium multi-function devices
        Entry(0x177d, 0xa060, .multifunctionEndpoint),  // Cavium multi-function devices
        Entry(0x10e8, 0xe004, .xgene),  // APM X-Gene
        Entry(0x1def, 0xe005, .xgene),  // Ampere Computing
        Entry(0x1def, 0xe006, .xgene),  // Ampere Computing
        Entry(0x1def, 0xe007, .xgene),  // Ampere Computing
        Entry(0x1def, 0xe008, .xgene),  // Ampere Computing
        Entry(0x1def, 0xe009, .xgene),  // Ampere Computing
        Entry(0x1def, 0xe00a, .xgene),  // Ampere Computing
        Entry(0x1def, 0xe00b, .xgene),  // Ampere Computing
        Entry(0x1def, 0xe00c, .xgene),  // Ampere Computing
        Entry(0x14e4, 0x16d7, .multifunctionEndpoint),  // Broadcom multi-function device (BCM57414)
        Entry(0x14e4, 0x1750, .multifunctionEndpoint, since: KernelVersion(6, 10)),  // Broadcom multi-function device (BCM5760X family)
        Entry(0x14e4, 0x1751, .multifunctionEndpoint, since: KernelVersion(6, 10)),  // Broadcom multi-function device (BCM5760X family)
        Entry(0x14e4, 0x1752, .multifunctionEndpoint, since: KernelVersion(6, 10)),  // Broadcom multi-function device (BCM5760X family)
        Entry(0x14e4, 0x1760, .multifunctionEndpoint, since: KernelVersion(6, 10)),  // Broadcom multi-function device (BCM5760X family)
        Entry(0x14e4, 0x1761, .multifunctionEndpoint, since: KernelVersion(6, 10)),  // Broadcom multi-function device (BCM5760X family)
        Entry(0x14e4, 0x1762, .multifunctionEndpoint, since: KernelVersion(6, 10)),  // Broadcom multi-function device (BCM5760X family)
        Entry(0x14e4, 0x1763, .multifunctionEndpoint, since: KernelVersion(6, 10)),  // Broadcom multi-function device (BCM5760X family)
        Entry(0x14e4, 0xd714, .broadcomIProc),  // Broadcom iProc PAXB root port
        Entry(0x0014, 0x3c09, .loongson, since: KernelVersion(6, 16)),  // Loongson PCIe Root Ports
        Entry(0x0014, 0x3c19, .loongson, since: KernelVersion(6, 16)),  // Loongson PCIe Root Ports
        Entry(0x0014, 0x3c29, .loongson, since: KernelVersion(6, 16)),  // Loongson PCIe Root Ports
        Entry(0x0014, 0x7a09, .loongson, since: KernelVersion(6, 16)),  // Loongson PCIe Root Ports
        Entry(0x0014, 0x7a19, .loongson, since: KernelVersion(6, 16)),  // Loongson PCIe Root Ports
        Entry(0x0014, 0x7a29, .loongson, since: KernelVersion(6, 16)),  // Loongson PCIe Root Ports
        Entry(0x0014, 0x7a39, .loongson, since: KernelVersion(6, 16)),  // Loongson PCIe Root Ports
        Entry(0x0014, 0x7a49, .loongson, since: KernelVersion(6, 16)),  // Loongson PCIe Root Ports
        Entry(0x0014, 0x7a59, .loongson, since: KernelVersion(6, 16)),  // Loongson PCIe Root Ports
        Entry(0x0014, 0x7a69, .loongson, since: KernelVersion(6, 16)),  // Loongson PCIe Root Ports
        Entry(0x1c36, 0x0031, .amazonAnnapurna),  // Amazon Annapurna Labs
        Entry(0x1d17, 0x3038, .multifunctionEndpoint),  // Zhaoxin multi-function devices
        Entry(0x1d17, 0x3104, .multifunctionEndpoint),  // Zhaoxin multi-function devices
        Entry(0x1d17, 0x9083, .multifunctionEndpoint),  // Zhaoxin multi-function devices
        Entry(0x1957, 0x8d81, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx0A : without security features + CAN-FD
        Entry(0x1957, 0x8da1, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx0A : without security features + CAN-FD
        Entry(0x1957, 0x8d83, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx0A : without security features + CAN-FD
        Entry(0x1957, 0x8d80, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx0C : security features + CAN-FD
        Entry(0x1957, 0x8da0, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx0C : security features + CAN-FD
        Entry(0x1957, 0x8d82, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx0C : security features + CAN-FD
        Entry(0x1957, 0x8d90, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx0E : security features + CAN
        Entry(0x1957, 0x8db0, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx0E : security features + CAN
        Entry(0x1957, 0x8d92, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx0E : security features + CAN
        Entry(0x1957, 0x8d91, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx0N : without security features + CAN
        Entry(0x1957, 0x8db1, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx0N : without security features + CAN
        Entry(0x1957, 0x8d93, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx0N : without security features + CAN
        Entry(0x1957, 0x8d89, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx2A : without security features + CAN-FD
        Entry(0x1957, 0x8da9, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx2A : without security features + CAN-FD
        Entry(0x1957, 0x8d8b, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx2A : without security features + CAN-FD
        Entry(0x1957, 0x8d88, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx2C : security features + CAN-FD
        Entry(0x1957, 0x8da8, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx2C : security features + CAN-FD
        Entry(0x1957, 0x8d8a, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx2C : security features + CAN-FD
        Entry(0x1957, 0x8d98, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx2E : security features + CAN
        Entry(0x1957, 0x8db8, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx2E : security features + CAN
        Entry(0x1957, 0x8d9a, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx2E : security features + CAN
        Entry(0x1957, 0x8d99, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx2N : without security features + CAN
        Entry(0x1957, 0x8db9, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx2N : without security features + CAN
        Entry(0x1957, 0x8d9b, .nxpRootPort),  // NXP root ports, xx=16, 12, or 08 cores; LX2xx2N : without security features + CAN
        Entry(0x1d17, nil, .zhaoxinPorts),  // Zhaoxin Root/Downstream Ports (function filters)
        Entry(0x8088, nil, .wangxun, since: KernelVersion(6, 3)),  // Wangxun NICs (function filters by device ID)
    ]

    /// `REQ_ACS_FLAGS` as the quirks grant it: SV | RR | CR | UF.
    static let isolating =
        ACSCapability.sourceValidation | ACSCapability.requestRedirect | ACSCapability.completionRedirect
        | ACSCapability.upstreamForwarding

    /// `pci_acs_ctrl_enabled(requested, enabled)`: every requested control is among those enabled.
    static func controlsEnabled(_ requested: UInt16, _ enabled: UInt16) -> Bool { requested & enabled == requested }

    /// What the table says about `device` for `flags`; nil when no entry decides, so the device's own
    /// ACS capability does.
    func answer(for device: PCIDevice, flags: UInt16, in topology: PCITopology) -> Answer? {
        guard let vendor = device.vendorID else { return nil }
        for entry in Self.table where entry.vendor == vendor && (entry.device == nil || entry.device == device.deviceID) {
            if let since = entry.since, release < since { continue }
            if let answer = answer(entry.quirk, for: device, flags: flags, in: topology) { return answer }
        }
        return nil
    }

    private func answer(_ quirk: Quirk, for device: PCIDevice, flags: UInt16, in topology: PCITopology) -> Answer? {
        let id = device.deviceID ?? 0
        let ids = "\(Hex.string(UInt64(device.vendorID ?? 0), width: 4)):\(Hex.string(UInt64(id), width: 4))"
        let portType = device.config?.express?.portType
        func decided(_ enabled: Bool, _ why: String) -> Answer { Answer(enabled: enabled, name: "\(quirk.rawValue): \(why)") }
        func granted(_ provided: UInt16, _ why: String) -> Answer { decided(Self.controlsEnabled(flags, provided), why) }
        switch quirk {
        case .amdSouthbridge:
            // Only multifunction devices on a root bus, and only where an AMD IOMMU is described.
            guard topology.isMultifunction(device.address), device.parent == nil, hasIVRS else { return nil }
            let requested =
                flags
                & (ACSCapability.requestRedirect | ACSCapability.completionRedirect | ACSCapability.egressControl
                    | ACSCapability.directTranslated)
            return decided(
                Self.controlsEnabled(requested, ACSCapability.requestRedirect | ACSCapability.completionRedirect),
                "\(ids) is an AMD southbridge function, which the kernel treats as isolated when an IVRS table exists")
        case .multifunctionEndpoint:
            return granted(
                Self.isolating | ACSCapability.translationBlocking | ACSCapability.directTranslated,
                "\(ids) is a multifunction device whose vendor states its functions cannot reach each other")
        case .intelRootComplexEndpoint:
            guard portType == .rootComplexIntegratedEndpoint else { return nil }
            return granted(
                Self.isolating, "\(ids) is an Intel root-complex integrated endpoint, which VT-d lets reach peers only through translation")
        case .qualcommRootPort, .xgene, .broadcomIProc, .loongson, .nxpRootPort:
            return granted(Self.isolating, "\(ids)'s root complex does not forward peer-to-peer traffic")
        case .amazonAnnapurna:
            guard portType == .rootPort else { return nil }
            return granted(Self.isolating, "\(ids) is an Amazon Annapurna Labs root port, which does not forward peer-to-peer traffic")
        case .cavium:
            guard portType == .rootPort, (0xa000...0xa7ff).contains(id) || id == 0xaf84 || id == 0xb884 else { return nil }
            return granted(Self.isolating, "\(ids) is a Cavium ThunderX root port")
        case .zhaoxinPorts:
            guard portType == .rootPort || portType == .downstreamPort else { return nil }
            guard (0x0710...0x071e).contains(id) || id == 0x0721 || (0x0723...0x0752).contains(id) else {
                return decided(false, "\(ids) is a Zhaoxin port the kernel's list does not name, so it never counts as isolated")
            }
            return granted(Self.isolating, "\(ids) is a Zhaoxin port that isolates without a usable ACS capability")
        case .wangxun:
            var listed = (0x0100...0x010f).contains(id) || id == 0x1001 || id == 0x2001
            if release >= KernelVersion(6, 13) { listed = listed || [0x5010, 0x5025, 0x5040, 0x5110, 0x5125, 0x5140].contains(id) }
            guard listed else {
                return decided(false, "\(ids) is a Wangxun device the kernel's list does not name, so it never counts as isolated")
            }
            return granted(Self.isolating, "\(ids) is a Wangxun NIC whose functions cannot reach each other")
        case .intelPCH:
            guard portType == .rootPort, Self.intelPCHRootPorts.contains(id) else { return nil }
            if KernelRules(release).intelPCHEnableQuirkSkipped, let config = device.config, config.hasExtendedSpace, config.acs == nil {
                return granted(
                    0,
                    "\(ids) is an Intel PCH root port, but \(release) skips the chipset's ACS enable for ports without an ACS capability (fixed in 6.11.7)"
                )
            }
            // pci_quirk_enable_intel_pch_acs() sets the chipset's equivalent of ACS when an IOMMU asked
            // for ACS; without that request the port does not isolate.
            return granted(
                acsRequested ? Self.isolating : 0, "\(ids) is an Intel PCH root port whose isolation is set through the chipset, not ACS")
        case .intelSPTPCH:
            guard portType == .rootPort, Self.isIntelSPTRootPort(id), let acs = device.config?.acs else { return nil }
            // The control register sits at a non-standard offset (dword at cap+8), where the kernel sets
            // what the capability offers when an IOMMU asked for ACS; controls not offered count as on.
            let requested = flags & (acs.capability | ACSCapability.egressControl)
            return decided(
                acsRequested && Self.controlsEnabled(requested, acs.capability & Self.isolating),
                "\(ids) is an Intel PCH root port whose ACS control register is at a non-standard offset")
        }
    }

    /// `pci_quirk_intel_pch_acs_ids[]`: Ibex Peak … Wellsburg, 9 series.
    static let intelPCHRootPorts: Set<UInt16> = {
        var ids = Set<UInt16>()
        for range in [
            0x3b42...0x3b51, 0x1c10...0x1c1f, 0x1e10...0x1e1f, 0x8c10...0x8c1f, 0x9c10...0x9c1b, 0x9c90...0x9c9b, 0x8d10...0x8d1e,
        ] {
            for id in range { ids.insert(UInt16(id)) }
        }
        for id in [
            0x1d10, 0x1d12, 0x1d14, 0x1d16, 0x1d18, 0x1d1a, 0x1d1c, 0x1d1e,
            0x8c90, 0x8c92, 0x8c94, 0x8c96, 0x8c98, 0x8c9a, 0x8c9c, 0x8c9e,
        ] { ids.insert(UInt16(id)) }
        return ids
    }()

    /// `pci_quirk_intel_spt_pch_acs_match()`: Sunrise Point, Union Point and 7th/8th-generation
    /// mobile PCH root ports.
    static func isIntelSPTRootPort(_ id: UInt16) -> Bool {
        (0xa110...0xa11f).contains(id) || (0xa167...0xa16a).contains(id) || (0xa290...0xa29f).contains(id)
            || (0xa2e7...0xa2ee).contains(id) || (0x9d10...0x9d1b).contains(id)
    }

    static func names(of flags: UInt16) -> String {
        let names: [(UInt16, String)] = [
            (ACSCapability.sourceValidation, "SV"), (ACSCapability.translationBlocking, "TB"),
            (ACSCapability.requestRedirect, "RR"), (ACSCapability.completionRedirect, "CR"),
            (ACSCapability.upstreamForwarding, "UF"), (ACSCapability.egressControl, "EC"),
            (ACSCapability.directTranslated, "DT"),
        ]
        return names.filter { flags & $0.0 != 0 }.map(\.1).joined(separator: "+")
    }
}
