/// Readable names for PCI class codes (base class and subclass), as pci.ids and lspci say them.
public enum PCIClassName {
    public static func name(of classCode: UInt32) -> String {
        let base = UInt8(truncatingIfNeeded: classCode >> 16)
        let sub = UInt8(truncatingIfNeeded: classCode >> 8)
        if let name = subclassNames[UInt16(base) << 8 | UInt16(sub)] { return name }
        if let name = baseNames[base] { return name }
        return "Class 0x" + String(classCode, radix: 16)
    }

    static let baseNames: [UInt8: String] = [
        0x00: "Unclassified device", 0x01: "Mass storage controller", 0x02: "Network controller",
        0x03: "Display controller", 0x04: "Multimedia controller", 0x05: "Memory controller",
        0x06: "Bridge", 0x07: "Communication controller", 0x08: "Generic system peripheral",
        0x09: "Input device controller", 0x0a: "Docking station", 0x0b: "Processor",
        0x0c: "Serial bus controller", 0x0d: "Wireless controller", 0x0e: "Intelligent controller",
        0x0f: "Satellite communications controller", 0x10: "Encryption controller",
        0x11: "Signal processing controller", 0x12: "Processing accelerators",
        0x13: "Non-Essential Instrumentation", 0x40: "Coprocessor", 0xff: "Unassigned class",
    ]

    static let subclassNames: [UInt16: String] = [
        0x0100: "SCSI storage controller", 0x0101: "IDE interface", 0x0104: "RAID bus controller",
        0x0106: "SATA controller", 0x0107: "Serial Attached SCSI controller",
        0x0108: "Non-Volatile memory controller", 0x0200: "Ethernet controller",
        0x0280: "Network controller", 0x0300: "VGA compatible controller", 0x0302: "3D controller",
        0x0380: "Display controller", 0x0401: "Multimedia audio controller", 0x0403: "Audio device",
        0x0600: "Host bridge", 0x0601: "ISA bridge", 0x0604: "PCI bridge", 0x0607: "CardBus bridge",
        0x0680: "Bridge", 0x0700: "Serial controller", 0x0805: "SD Host controller",
        0x0806: "IOMMU", 0x0880: "System peripheral", 0x0c03: "USB controller",
        0x0c05: "SMBus", 0x0c80: "Serial bus controller", 0x0d80: "Wireless controller",
        0x1080: "Encryption controller", 0x1180: "Signal processing controller",
        0x1200: "Processing accelerators",
    ]
}
