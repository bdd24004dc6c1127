/// What the model needs from a function's configuration space (the sysfs `config` file).
///
/// Without CAP_SYS_ADMIN the kernel returns only the first 64 bytes (`pci_read_config()`), so the
/// capability lists are out of reach; `isTruncated` records that instead of guessing.
public struct PCIConfigSpace: Sendable, Hashable {
    /// Bytes the file gave: 64 (unprivileged), 256 (conventional PCI or no extended space) or 4096.
    public var length: Int
    /// Header type bits 6:0: 0 endpoint, 1 PCI-PCI bridge, 2 CardBus bridge.
    public var headerLayout: UInt8
    /// Header type bit 7.
    public var isMultifunction: Bool
    /// The PCI Express capability, when the standard capability list was readable and has one.
    public var express: PCIExpressCapability?
    /// The ACS extended capability, when the extended space was readable and has one.
    public var acs: ACSCapability?
    /// The standard capability list lies beyond the bytes we could read.
    public var isTruncated: Bool { length < 256 }
    /// Extended capabilities (ACS) were readable: nil `acs` then really means "none".
    public var hasExtendedSpace: Bool { length >= 4096 }

    public init(length: Int, headerLayout: UInt8, isMultifunction: Bool, express: PCIExpressCapability?, acs: ACSCapability?) {
        self.length = length
        self.headerLayout = headerLayout
        self.isMultifunction = isMultifunction
        self.express = express
        self.acs = acs
    }
}

/// PCIe Capabilities register, Device/Port Type field (PCI_EXP_FLAGS_TYPE).
public enum PCIExpressPortType: UInt8, Sendable, Hashable, Codable {
    case endpoint = 0x0
    case legacyEndpoint = 0x1
    case rootPort = 0x4
    case upstreamPort = 0x5
    case downstreamPort = 0x6
    case pcieToPCIBridge = 0x7
    case pciToPCIeBridge = 0x8
    case rootComplexIntegratedEndpoint = 0x9
    case rootComplexEventCollector = 0xa

    /// The kernel's `PCI_EXP_TYPE_*` name.
    public var kernelName: String {
        switch self {
        case .endpoint: "PCI_EXP_TYPE_ENDPOINT"
        case .legacyEndpoint: "PCI_EXP_TYPE_LEG_END"
        case .rootPort: "PCI_EXP_TYPE_ROOT_PORT"
        case .upstreamPort: "PCI_EXP_TYPE_UPSTREAM"
        case .downstreamPort: "PCI_EXP_TYPE_DOWNSTREAM"
        case .pcieToPCIBridge: "PCI_EXP_TYPE_PCI_BRIDGE"
        case .pciToPCIeBridge: "PCI_EXP_TYPE_PCIE_BRIDGE"
        case .rootComplexIntegratedEndpoint: "PCI_EXP_TYPE_RC_END"
        case .rootComplexEventCollector: "PCI_EXP_TYPE_RC_EC"
        }
    }
}

public struct PCIExpressCapability: Sendable, Hashable {
    /// Raw Device/Port Type (4 bits); `portType` is nil for reserved values.
    public var rawPortType: UInt8
    public var portType: PCIExpressPortType? { PCIExpressPortType(rawValue: rawPortType) }
    public init(rawPortType: UInt8) { self.rawPortType = rawPortType }
}

/// Access Control Services extended capability (PCI_EXT_CAP_ID_ACS): the capability register says
/// which controls exist, the control register which are on.
public struct ACSCapability: Sendable, Hashable {
    public var capability: UInt16
    public var control: UInt16
    public init(capability: UInt16, control: UInt16) {
        self.capability = capability
        self.control = control
    }

    // Bits as in include/uapi/linux/pci_regs.h.
    public static let sourceValidation: UInt16 = 0x0001  // PCI_ACS_SV
    public static let translationBlocking: UInt16 = 0x0002  // PCI_ACS_TB
    public static let requestRedirect: UInt16 = 0x0004  // PCI_ACS_RR
    public static let completionRedirect: UInt16 = 0x0008  // PCI_ACS_CR
    public static let upstreamForwarding: UInt16 = 0x0010  // PCI_ACS_UF
    public static let egressControl: UInt16 = 0x0020  // PCI_ACS_EC
    public static let directTranslated: UInt16 = 0x0040  // PCI_ACS_DT
}

extension String {
    init(format16 value: UInt16, prefix: String) {
        self = prefix + "0x" + Hex.string(UInt64(value), width: 4)
    }
}
