import IOMMUSnapshot

/// A fact about the machine's DMA protection with the evidence behind it, or why it is not known
/// and what would settle it. Unknown is never reported as off.
public enum PostureFact<Value: Sendable & Hashable>: Sendable, Hashable {
    case known(Value, evidence: String)
    case unknown(why: String)

    public var value: Value? { if case .known(let value, _) = self { value } else { nil } }
}

/// How translated default domains flush the IOTLB, or that the default is no translation at all.
public enum DomainMode: String, Sendable, Hashable, CaseIterable {
    /// `DMA-FQ`, or `DMA` before 5.15 with a lazy driver default: freed addresses are reused after a
    /// batched flush.
    case translatedLazy = "translated-lazy"
    /// `DMA`: every unmap is flushed at once.
    case translatedStrict = "translated-strict"
    /// `identity`: DMA goes to physical addresses untranslated.
    case passthrough
    /// No IOMMU groups: DMA is not translated at all.
    case off

    public var words: String {
        switch self {
        case .translatedLazy: "translated, lazy flush"
        case .translatedStrict: "translated, strict flush"
        case .passthrough: "passthrough (identity)"
        case .off: "off: DMA is not translated"
        }
    }
}

/// "Which mode am I in": whether the IOMMU is on and in which default-domain mode, taken from what
/// the kernel shows (its groups and their types), with the setting the kernel's rules say decided it,
/// plus interrupt remapping, VFIO's interfaces and the protection of external ports.
public struct Posture: Sendable, Hashable {
    /// `intel-iommu`, `amd-iommu`: the units the kernel registered, by driver.
    public var drivers: [String: [String]]
    /// What the rules say about translation coming up, and why (docs/kernel-rules.md#p1).
    public var translation: TranslationState
    /// From the groups: the type most of them have (their default domain); `off` without groups.
    public var mode: DomainMode
    /// The setting that decided the mode, from the rules (`policy.explanation`), or why the mode is
    /// not what they predict.
    public var decidedBy: String
    /// True when the mode is what the rules predict.
    public var modeAsPredicted: Bool
    /// Groups per type as the kernel shows them (`unreadable` for a missing or unreadable `type`).
    public var groupTypes: [String: Int]
    public var interruptRemapping: PostureFact<Bool>
    public var iommufd: PostureFact<Bool>
    /// VFIO device files in `dev/vfio/devices` (cdev access, with iommufd).
    public var vfioDeviceFiles: PostureFact<Int>
    /// Groups VFIO made without an IOMMU (`vfio-noiommu`): DMA from a user process, unprotected.
    public var noIOMMUGroups: [Int]
    public var vfioNoIOMMUMode: PostureFact<Bool>
    public var vfioAllowUnsafeInterrupts: PostureFact<Bool>
    /// Thunderbolt domains and whether each reports that the IOMMU protects it.
    public var thunderboltDMAProtection: [String: Bool]
    /// The DMAR table's DMA-protection opt-in flag (Intel firmware asking for the IOMMU at boot).
    public var platformOptIn: PostureFact<Bool>
    /// Devices below an external-facing port (`removable`): the kernel treats them as untrusted and
    /// gives them strict translated domains whatever the default.
    public var untrustedDevices: [PCIAddress]
    /// Arm and virtio-iommu: which PCI functions the firmware (IORT, VIOT, device tree) routes to which
    /// IOMMU, and which past every IOMMU; nil where no such firmware exists (x86).
    public var firmwareRoutes: PostureFact<FirmwareRouteSummary>?

    /// What could not be checked, each with why: the unknown facts above, in words.
    public var notChecked: [String] {
        var result: [String] = []
        func note<T>(_ name: String, _ fact: PostureFact<T>) { if case .unknown(let why) = fact { result.append("\(name): \(why)") } }
        note("interrupt remapping", interruptRemapping)
        note("iommufd", iommufd)
        note("VFIO device files", vfioDeviceFiles)
        note("VFIO no-IOMMU mode", vfioNoIOMMUMode)
        note("VFIO unsafe interrupts", vfioAllowUnsafeInterrupts)
        note("DMA-protection opt-in", platformOptIn)
        if case .unknown(let why) = translation { result.append("whether the IOMMU comes up: \(why)") }
        if case .unknown(let why)? = firmwareRoutes { result.append("the firmware's IOMMU routes: \(why)") }
        return result
    }
}

/// The firmware's routes of every PCI function (`FirmwareRoutes`), summed up per IOMMU.
public struct FirmwareRouteSummary: Sendable, Hashable {
    /// The PCI functions routed to one IOMMU.
    public struct Routed: Sendable, Hashable {
        public var iommu: FirmwareIOMMU
        public var functions: [PCIAddress]
        public init(iommu: FirmwareIOMMU, functions: [PCIAddress]) {
            self.iommu = iommu
            self.functions = functions
        }
    }

    /// Per IOMMU, in name order (`the SMMUv3 at 0x9050000`).
    public var translated: [Routed]
    /// Functions the firmware routes past every IOMMU: their DMA is untranslated by design.
    public var bypassing: [PCIAddress]

    public init(translated: [Routed], bypassing: [PCIAddress]) {
        self.translated = translated
        self.bypassing = bypassing
    }

    /// Each function's route, when every one is known.
    static func of(_ devices: [PCIDevice], routes: FirmwareRoutes) -> FirmwareRouteSummary? {
        var translated: [FirmwareIOMMU: [PCIAddress]] = [:]
        var bypassing: [PCIAddress] = []
        for device in devices {
            switch routes.route(of: device.address) {
            case nil: return nil
            case .translated(let iommu, _)?: translated[iommu, default: []].append(device.address)
            case .bypass?: bypassing.append(device.address)
            }
        }
        return FirmwareRouteSummary(
            translated: translated.keys.sorted { $0.name < $1.name }.map {
                Routed(iommu: $0, functions: translated[$0, default: []].sorted())
            },
            bypassing: bypassing.sorted())
    }
}

extension Model {
    /// The posture of `snapshot`: observed where the kernel shows it, explained by `prediction`'s policy.
    public static func posture(of snapshot: Snapshot, prediction: Prediction) -> Posture {
        let policy = prediction.policy
        let rules = prediction.rules
        var drivers: [String: [String]] = [:]
        for unit in snapshot.iommus { drivers[unit.driver.name, default: []].append(unit.name) }

        var groupTypes: [String: Int] = [:]
        for group in snapshot.groups { groupTypes[group.type.domainType?.rawValue ?? "unreadable", default: 0] += 1 }
        let translatable: [DomainType] = [.identity, .dma, .dmaFQ]
        let observed = translatable.map { type in (type, groupTypes[type.rawValue] ?? 0) }.max { $0.1 < $1.1 }
        let predictedMode = Model.mode(of: policy.globalType, strict: policy.isStrict)
        var mode: DomainMode
        var decidedBy: String
        var asPredicted: Bool
        if snapshot.groups.isEmpty {
            mode = .off
            asPredicted = policy.translation.isOff || policy.disabledBy != nil
            decidedBy =
                asPredicted
                ? policy.disabledBy.map { "`\($0)`" } ?? policy.translation.reason
                : "the kernel made no groups, although the rules predict the IOMMU \(policy.translation)"
        } else if let (type, count) = observed, count > 0 {
            // Before 5.15 a lazy DMA domain still reads `DMA`: the flush policy comes from the rules.
            mode = Model.mode(of: type, strict: type == .dma && rules.hasFlushQueueType ? true : policy.isStrict)
            asPredicted = mode == predictedMode
            decidedBy =
                asPredicted
                ? policy.explanation
                : "not what the rules predict: they say \(predictedMode.words), from \(policy.explanation)"
        } else {
            mode = predictedMode
            asPredicted = true
            decidedBy = "the groups show no type, so this is the rules' prediction: \(policy.explanation)"
        }

        let platform = snapshot.platform
        let interruptRemapping: PostureFact<Bool>
        if let table = platform.interrupts {
            // Per-device MSI domains (6.x) name the chip after the device: `IR-PCI-MSIX-0000:00:1f.6`.
            let chips = Set(
                table.lines.map { line in
                    line.chip.split(separator: "-").prefix { PCIAddress(String($0)) == nil && !$0.contains(":") }.joined(separator: "-")
                })
            let remapped = chips.filter { $0.hasPrefix("IR-") }.sorted()
            let direct = chips.filter { $0 == "IO-APIC" || $0.hasPrefix("PCI-MSI") || $0 == "HPET-MSI" }.sorted()
            // Arm: the GICv3 ITS tags each MSI with the device's ID and isolates it
            // (IRQ_DOMAIN_FLAG_ISOLATED_MSI), what VFIO asks for instead of x86 remapping.
            let isolatedByITS = chips.filter { $0.hasPrefix("ITS-") }.sorted()
            let isolating = remapped.isEmpty ? isolatedByITS : remapped
            if !isolating.isEmpty {
                let how = remapped.isEmpty ? ": the GICv3 ITS isolates MSIs per device" : ""
                interruptRemapping = .known(
                    direct.isEmpty,
                    evidence: direct.isEmpty
                        ? "proc/interrupts: \(isolating.joined(separator: ", "))\(how)"
                        : "proc/interrupts: some chips are not remapped (\(direct.joined(separator: ", ")))")
            } else if !direct.isEmpty {
                interruptRemapping = .known(false, evidence: "proc/interrupts: \(direct.joined(separator: ", ")), no IR- chip")
            } else {
                interruptRemapping = .unknown(why: "proc/interrupts shows no x86 IO-APIC, MSI or GICv3 ITS chip")
            }
        } else {
            interruptRemapping = .unknown(why: "the root holds no proc/interrupts")
        }
        let noDev = "the root holds no dev/ folder"
        let iommufd: PostureFact<Bool> =
            platform.hasIOMMUFD.map { .known($0, evidence: $0 ? "dev/iommu exists" : "no dev/iommu") } ?? .unknown(why: noDev)
        let deviceFiles: PostureFact<Int> =
            platform.vfioDeviceFiles.map { .known($0, evidence: "dev/vfio/devices") } ?? .unknown(why: noDev)
        func parameter(_ value: Bool?, _ path: String, loaded: Bool?) -> PostureFact<Bool> {
            if let value { return .known(value, evidence: path) }
            switch loaded {
            case nil: return .unknown(why: "the root holds no sys/module")
            case false?: return .known(false, evidence: "VFIO is not loaded (no sys/module/vfio)")
            case true?: return .unknown(why: "\(path) could not be read")
            }
        }
        let platformOptIn: PostureFact<Bool>
        if let dmar = prediction.context.dmar {
            platformOptIn = .known(dmar.platformOptIn, evidence: "DMAR flags bit 2")
        } else if snapshot.firmware.dmar != nil {
            platformOptIn = .unknown(why: "the DMAR table could not be read or decoded; run as root")
        } else {
            platformOptIn = .known(false, evidence: "no DMAR table")
        }
        return Posture(
            drivers: drivers, translation: policy.translation, mode: mode, decidedBy: decidedBy, modeAsPredicted: asPredicted,
            groupTypes: groupTypes, interruptRemapping: interruptRemapping, iommufd: iommufd, vfioDeviceFiles: deviceFiles,
            noIOMMUGroups: snapshot.groups.filter(\.isVFIONoIOMMU).map(\.id),
            vfioNoIOMMUMode: parameter(
                platform.vfioNoIOMMUMode, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", loaded: platform.vfioLoaded),
            vfioAllowUnsafeInterrupts: parameter(
                platform.vfioAllowUnsafeInterrupts, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
                loaded: platform.vfioLoaded),
            thunderboltDMAProtection: platform.thunderboltDMAProtection, platformOptIn: platformOptIn,
            untrustedDevices: snapshot.pciDevices.filter { $0.removable == .removable }.map(\.address),
            firmwareRoutes: firmwareRoutes(snapshot, routes: prediction.context.routes))
    }

    /// nil without an IORT, a VIOT or a device tree with a PCI host bridge.
    static func firmwareRoutes(_ snapshot: Snapshot, routes: FirmwareRoutes) -> PostureFact<FirmwareRouteSummary>? {
        guard snapshot.firmware.pciRouteSource != nil else { return nil }
        guard let summary = FirmwareRouteSummary.of(snapshot.pciDevices, routes: routes) else {
            return .unknown(why: routes.unknownReason)
        }
        let tables = Set(summary.translated.map(\.iommu.source)).sorted().joined(separator: ", ")
        return .known(summary, evidence: tables.isEmpty ? "no IOMMU in the firmware's mappings" : tables)
    }

    static func mode(of type: DomainType, strict: Bool) -> DomainMode {
        switch type {
        case .identity: .passthrough
        case .dmaFQ: .translatedLazy
        default: strict ? .translatedStrict : .translatedLazy
        }
    }
}
