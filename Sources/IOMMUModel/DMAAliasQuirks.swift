import IOMMUSnapshot

/// The kernel's DMA-alias quirks (drivers/pci/quirks.c, docs/kernel-rules.md#g5): devices that
/// issue DMA with another function's requester id, and bridges whose alias differs from what their
/// type says. Header fixups, so they are in place before the IOMMU groups the device.
///
/// An alias puts two devices in one group only when a real device sits at the aliased devfn on the
/// same bus (`get_pci_alias_group()` asks `pci_devs_are_dma_aliases()` about devices that exist);
/// a phantom function (Marvell's function 1) changes what the IOMMU maps, not the groups.
public enum DMAAliasQuirks {
    /// Devfns on the device's own bus its DMA also uses (`pci_add_dma_alias()` callers), with the
    /// quirk's name; nil for a device no quirk names.
    public static func aliases(of device: PCIDevice, release: KernelVersion) -> (devfns: [UInt8], quirk: String)? {
        guard let vendor = device.vendorID, let id = device.deviceID else { return nil }
        let slot = device.address.device << 3
        switch (vendor, id) {
        // quirk_dma_func0_alias: Ricoh card readers, Glenfly GPU audio.
        case (0x1180, 0xe832), (0x1180, 0xe476), (0x6766, 0x3d40), (0x6766, 0x3d41):
            return device.address.function == 0 ? nil : ([slot], "quirk_dma_func0_alias")
        // quirk_dma_func1_alias: Marvell 88SE91xx/92xx SATA, TTI RocketRAID, JMicron JMB388, Lite-On.
        case (0x1b4b, 0x9120), (0x1b4b, 0x9123), (0x1b4b, 0x9125), (0x1b4b, 0x9128), (0x1b4b, 0x9130), (0x1b4b, 0x9170),
            (0x1b4b, 0x9172), (0x1b4b, 0x917a), (0x1b4b, 0x9182), (0x1b4b, 0x9183), (0x1b4b, 0x91a0), (0x1b4b, 0x9215),
            (0x1b4b, 0x9220), (0x1b4b, 0x9230), (0x1b4b, 0x9235), (0x1103, 0x0642), (0x1103, 0x0645), (0x197b, 0x2393),
            (0x1c28, 0x0122):
            return device.address.function == 1 ? nil : ([slot | 1], "quirk_dma_func1_alias")
        // quirk_fixed_dma_alias: Adaptec 3405/3805 RAID, which uses 01.0 of its bus.
        case (0x9005, 0x0285):
            guard device.subsystemVendorID == 0x9005, [0x02bb, 0x02bc].contains(device.subsystemDeviceID) else { return nil }
            return ([0x08], "quirk_fixed_dma_alias")
        // quirk_mic_x200_dma_alias: Intel Xeon Phi x200 NTB, DMA from 10.0, 11.0 and 12.3.
        case (0x8086, 0x2260), (0x8086, 0x2264):
            return ([0x80, 0x88, 0x93], "quirk_mic_x200_dma_alias")
        // quirk_pex_vca_alias: Intel Visual Compute Accelerator, functions 0-4 of every slot (5.5+).
        case (0x8086, 0x2954), (0x8086, 0x2955), (0x8086, 0x2956), (0x8086, 0x2958), (0x8086, 0x2959), (0x8086, 0x295a):
            guard release >= KernelVersion(5, 5) else { return nil }
            return ((0..<32).flatMap { slot in (0..<5).map { UInt8(slot << 3 | $0) } }, "quirk_pex_vca_alias")
        // quirk_plx_ntb_dma_alias: PLX NTB, every devfn of its bus (5.5+).
        case (0x10b5, 0x87b0), (0x10b5, 0x87b1):
            guard release >= KernelVersion(5, 5) else { return nil }
            return ((0...255).map { UInt8($0) }, "quirk_plx_ntb_dma_alias")
        // quirk_switchtec_ntb_dma_alias reads its aliases from the switch's registers at run time:
        // nothing in sysfs shows them, so it is not modelled.
        default:
            return nil
        }
    }

    /// How a bridge takes part in `pci_for_each_dma_alias()` beyond what its type says.
    public enum BridgeFlag: Sendable, Hashable {
        /// `PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS` (quirk_use_pcie_bridge_dma_alias): a PCIe-to-PCI bridge
        /// without a PCIe capability; devices behind it alias to its secondary bus, devfn 0.
        case pcieBridgeAlias
        /// `PCI_DEV_FLAGS_BRIDGE_XLATE_ROOT` (quirk_bridge_cavm_thrx2_pcie_root): the walk stops below it.
        case translationRoot
        /// `PCI_DEV_FLAGS_PCI_BRIDGE_NO_ALIAS` (quirk_aspeed_pci_bridge_no_alias, 6.16+): the bridge
        /// adds no alias.
        case noAlias
    }

    public static func bridgeFlag(of device: PCIDevice, release: KernelVersion) -> BridgeFlag? {
        switch (device.vendorID, device.deviceID) {
        case (0x1b21, 0x1080), (0x10e3, 0x8113), (0x1283, 0x8892), (0x1283, 0x8893), (0x8086, 0x244e): .pcieBridgeAlias
        case (0x14e4, 0x9000), (0x14e4, 0x9084): .translationRoot
        case (0x1a03, 0x1150): release >= KernelVersion(6, 16) ? .noAlias : nil
        default: nil
        }
    }
}
