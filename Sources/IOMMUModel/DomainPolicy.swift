import IOMMUSnapshot

/// Where one setting of the global policy came from, in words a person can check.
public enum PolicySource: Sendable, Hashable, CustomStringConvertible {
    /// `CONFIG_…` in `boot/config-<release>`.
    case buildConfig(String)
    /// No config in the root: what the distribution builds for this release.
    case distributionDefault(String)
    /// A `proc/cmdline` parameter, as written.
    case commandLine(String)
    /// A virtualised IOMMU that caches not-present entries (unit name, register bit).
    case virtualisedIOMMU(String)
    /// What the ACPI tables say (DMAR flags, no table at all).
    case firmware(String)
    /// Active memory encryption (AMD SME), and the evidence for it.
    case memoryEncryption(String)

    public var isCommandLine: Bool { if case .commandLine = self { true } else { false } }

    public var description: String {
        switch self {
        case .buildConfig(let option): option
        case .distributionDefault(let what): what
        case .commandLine(let parameter): "`\(parameter)`"
        case .virtualisedIOMMU(let what): "virtualised IOMMU, \(what)"
        case .firmware(let what): what
        case .memoryEncryption(let evidence):
            "memory encryption is active (\(evidence)), which turns a built-in passthrough default translated"
        }
    }
}

/// Whether the IOMMU driver comes up and translates DMA (docs/kernel-rules.md#p1), and what decided it.
public enum TranslationState: Sendable, Hashable, CustomStringConvertible {
    case on(PolicySource)
    case off(PolicySource)
    /// The rules depend on a setting the root does not show (no build configuration, unknown
    /// distribution): the groups the kernel made are the only evidence.
    case unknown(String)

    public var isOff: Bool { if case .off = self { true } else { false } }

    /// What decided it, without the verdict.
    public var reason: String {
        switch self {
        case .on(let source), .off(let source): source.description
        case .unknown(let why): why
        }
    }

    public var description: String {
        switch self {
        case .on(let source): "on (\(source))"
        case .off(let source): "off (\(source))"
        case .unknown(let why): "not predictable (\(why))"
        }
    }
}

/// The kernel's global default domain type (`iommu_def_domain_type`) and whether DMA domains flush
/// lazily, with the setting that decided each (docs/kernel-rules.md#d1).
public struct DomainPolicy: Sendable, Hashable {
    /// `identity`, `DMA` or `DMA-FQ`.
    public var globalType: DomainType
    /// Why identity or translated.
    public var passthroughSource: PolicySource
    public var isStrict: Bool
    /// Why strict or lazy.
    public var strictSource: PolicySource
    /// `intel_iommu=off`, `amd_iommu=off` or `iommu=off`: no groups expected.
    public var disabledBy: String?
    /// `intel_iommu=igfx_off`: graphics identity-mapped (`IDENTMAP_GFX`, before 6.12).
    public var intelGraphicsIdentityMap: Bool
    /// `intel_iommu=sm_on` / `sm_off`, when given.
    public var intelScalableMode: Bool?
    /// Whether DMA translation comes up at all.
    public var translation: TranslationState = .unknown("not derived")

    /// True when the policy itself asked for identity (`iommu=pt`, `iommu.passthrough=1`, a build default).
    public var askedForIdentity: Bool { globalType == .identity }

    /// One sentence: "DMA-FQ (translated: distribution default …; lazy: …)".
    public var summary: String { "\(globalType.rawValue) (\(explanation))" }

    /// What decided the type: "translated: …; lazy: …" or "passthrough from …".
    public var explanation: String {
        if globalType == .identity { return "passthrough from \(passthroughSource)" }
        return "translated: \(passthroughSource); \(isStrict ? "strict" : "lazy"): \(strictSource)"
    }
}

extension Model {
    /// The global policy from the build config (or the distribution default), the command line and
    /// the IOMMU units' registers. Cmdline parameters are applied in order, later ones win, as their
    /// `early_param` handlers do.
    public static func policy(for snapshot: Snapshot, rules: KernelRules, dmar: DMARTable?) -> DomainPolicy {
        let config = snapshot.kernelConfig
        let distribution = distributionName(snapshot.kernel.versionLine)
        var passthrough = false
        var passthroughSource: PolicySource
        if let enabled = config?.isEnabled("CONFIG_IOMMU_DEFAULT_PASSTHROUGH") {
            passthrough = enabled
            passthroughSource = .buildConfig(enabled ? "CONFIG_IOMMU_DEFAULT_PASSTHROUGH=y" : "CONFIG_IOMMU_DEFAULT_PASSTHROUGH not set")
        } else {
            passthroughSource = .distributionDefault("\(distribution)'s default build")
        }
        // 5.15+: CONFIG_IOMMU_DEFAULT_DMA_STRICT / _LAZY; before, x86 drivers defaulted to lazy.
        let arm64 = isARM64(snapshot)
        var strict = false
        var strictSource: PolicySource
        if let strictConfig = config?.isEnabled("CONFIG_IOMMU_DEFAULT_DMA_STRICT"), rules.hasFlushQueueType {
            strict = strictConfig
            strictSource = .buildConfig(strictConfig ? "CONFIG_IOMMU_DEFAULT_DMA_STRICT=y" : "CONFIG_IOMMU_DEFAULT_DMA_LAZY=y")
        } else if arm64 {
            // drivers/iommu/Kconfig: IOMMU_DEFAULT_DMA_LAZY is the default only on x86 (and IA-64, s390);
            // before 5.15 the core's iommu_dma_strict was true and only x86 drivers asked for lazy.
            strict = true
            strictSource = .distributionDefault("the arm64 build's default, CONFIG_IOMMU_DEFAULT_DMA_STRICT (only x86 defaults to lazy)")
        } else {
            strictSource = .distributionDefault("\(distribution)'s default build")
        }
        var disabledBy: String?
        // intel_iommu= only reaches the Intel driver and amd_iommu= only the AMD one.
        let family =
            snapshot.iommus.first?.driver.name
            ?? (snapshot.firmware.dmar != nil ? "intel-iommu" : snapshot.firmware.ivrs != nil ? "amd-iommu" : nil)
        var graphicsIdentity = false
        var scalableMode: Bool?
        for parameter in snapshot.kernel.commandLine?.parameters ?? [] {
            let written = parameter.value.map { "\(parameter.key)=\($0)" } ?? parameter.key
            let options = (parameter.value ?? "").split(separator: ",").map(String.init)
            switch parameter.key {
            case "iommu.passthrough":
                if let value = parameter.value.flatMap(kernelBool) {
                    passthrough = value
                    passthroughSource = .commandLine(written)
                }
            case "iommu.strict":
                if let value = parameter.value.flatMap(kernelBool) {
                    strict = value
                    strictSource = .commandLine(written)
                }
            case "iommu" where !arm64:
                // arch/x86/kernel/pci-dma.c iommu_setup(): `pt`, `nopt`, `off` among others; arm64 has no
                // `iommu=` parameter at all.
                for option in options {
                    if option == "pt", rules.x86IOMMUParameterSetsDefault {
                        passthrough = true
                        passthroughSource = .commandLine(written)
                    } else if option == "nopt", rules.x86IOMMUParameterSetsDefault {
                        passthrough = false
                        passthroughSource = .commandLine(written)
                    } else if option == "off" {
                        disabledBy = written
                    }
                }
            case "intel_iommu":
                // drivers/iommu/intel/iommu.c intel_iommu_setup().
                for option in options {
                    switch option {
                    case "on": if disabledBy?.hasPrefix("intel_iommu") == true { disabledBy = nil }
                    case "off": if family != "amd-iommu" { disabledBy = written }
                    case "strict":
                        strict = true
                        strictSource = .commandLine(written)
                    case "igfx_off": graphicsIdentity = true
                    case "sm_on": scalableMode = true
                    case "sm_off": scalableMode = false
                    default: break
                    }
                }
            case "amd_iommu":
                // drivers/iommu/amd/init.c parse_amd_iommu_options().
                for option in options {
                    if option == "off", family != "intel-iommu" { disabledBy = written }
                    if option == "fullflush" {
                        strict = true
                        strictSource = .commandLine(written)
                    }
                }
            default:
                break
            }
        }
        // iommu_subsys_init(): memory encryption cancels a passthrough default the command line did
        // not ask for. The evidence a root shows is SME turned on by the command line or by the build.
        if passthrough, !passthroughSource.isCommandLine, rules.memoryEncryptionCancelsDefaultPassthrough,
            let evidence = memoryEncryption(snapshot, family: family)
        {
            passthrough = false
            passthroughSource = .memoryEncryption(evidence)
        }
        // A virtualised IOMMU forces strict through iommu_set_dma_strict() at driver init, after the
        // command line, so it wins over iommu.strict=0.
        if rules.virtualisedIOMMUForcesStrict, !strict, let unit = virtualisedUnit(snapshot.iommus, scalableMode: scalableMode) {
            strict = true
            strictSource = .virtualisedIOMMU(unit)
        }
        let type: DomainType = passthrough ? .identity : (rules.hasFlushQueueType && !strict ? .dmaFQ : .dma)
        var policy = DomainPolicy(
            globalType: type, passthroughSource: passthroughSource, isStrict: strict, strictSource: strictSource,
            disabledBy: disabledBy, intelGraphicsIdentityMap: graphicsIdentity, intelScalableMode: scalableMode)
        policy.translation = translation(for: snapshot, family: family, distribution: distribution, dmar: dmar)
        return policy
    }

    /// Whether the IOMMU driver translates DMA (docs/kernel-rules.md#p1). `iommu=` is an early
    /// parameter and `intel_iommu=`/`amd_iommu=` are handled after every early one, so their place on
    /// the line does not matter; within `intel_iommu=` tokens apply left to right (`off,on` is on),
    /// and `off` also refuses the firmware's opt-in for the rest of the boot.
    static func translation(for snapshot: Snapshot, family: String?, distribution: String, dmar: DMARTable?) -> TranslationState {
        let parameters = snapshot.kernel.commandLine?.parameters ?? []
        let config = snapshot.kernelConfig
        func options(_ key: String) -> [(option: String, written: String)] {
            parameters.filter { $0.key == key }.flatMap { parameter in
                (parameter.value ?? "").split(separator: ",").map { (String($0), "\(key)=\(parameter.value ?? "")") }
            }
        }
        let iommuOff = options("iommu").last { $0.option == "off" }
        switch family {
        case "intel-iommu":
            if let config, config.isEnabled("CONFIG_INTEL_IOMMU") != true { return .off(.buildConfig("CONFIG_INTEL_IOMMU is not set")) }
            // The build's default: upstream CONFIG_INTEL_IOMMU_DEFAULT_ON; Debian's patch adds
            // _DEFAULT_ON_INTGPU_OFF (on, integrated graphics excepted) and _DEFAULT_OFF.
            var state: TranslationState
            if let config {
                if config.isEnabled("CONFIG_INTEL_IOMMU_DEFAULT_ON") == true {
                    state = .on(.buildConfig("CONFIG_INTEL_IOMMU_DEFAULT_ON=y"))
                } else if config.isEnabled("CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF") == true {
                    state = .on(.buildConfig("CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y: on, integrated graphics excepted"))
                } else {
                    state = .off(.buildConfig("CONFIG_INTEL_IOMMU_DEFAULT_ON is not set, and the command line has no intel_iommu=on"))
                }
            } else if distribution == "Debian" {
                state = .on(.distributionDefault("Debian's build: on, integrated graphics excepted"))
            } else {
                state = .unknown("the root has no build configuration, and the default differs between distributions")
            }
            var refusesOptIn = false
            for (option, written) in options("intel_iommu") {
                if option == "on" { state = .on(.commandLine(written)) }
                if option == "off" {
                    state = .off(.commandLine(written))
                    refusesOptIn = true
                }
            }
            if let iommuOff { state = .off(.commandLine(iommuOff.written)) }
            // platform_optin_force_iommu(): firmware that asks for DMA protection of external-facing
            // ports turns VT-d on whatever iommu= says, unless intel_iommu=off refused it.
            if state.isOff, !refusesOptIn, dmar?.platformOptIn == true, snapshot.pciDevices.contains(where: { $0.removable == .removable })
            {
                state = .on(.firmware("the DMAR table's platform opt-in flag, with an external-facing port"))
            }
            return state
        case "amd-iommu":
            if let config, config.isEnabled("CONFIG_AMD_IOMMU") != true { return .off(.buildConfig("CONFIG_AMD_IOMMU is not set")) }
            if let off = options("amd_iommu").last(where: { $0.option == "off" }) { return .off(.commandLine(off.written)) }
            if let iommuOff { return .off(.commandLine(iommuOff.written)) }
            return .on(.firmware("the IVRS table: the AMD driver is on whenever one exists (amd_iommu=on is no option)"))
        case "arm-smmu-v3", "arm-smmu", "virtio-iommu":
            // Arm SMMUs and virtio-iommu have no on/off switch of their own: the driver comes up for
            // every unit the firmware describes (IORT, VIOT, the device tree).
            let firmware = snapshot.firmware
            let ownTable =
                family == "virtio-iommu"
                ? (firmware.viot != nil ? "an ACPI VIOT table" : nil) : (firmware.iort != nil ? "an ACPI IORT table" : nil)
            let deviceTree = (firmware.deviceTree?.users ?? []).isEmpty ? nil : "the device tree's iommu-map"
            let declared = ownTable ?? deviceTree ?? "its registered IOMMU unit"
            return .on(.firmware("\(declared): the \(family ?? "") driver comes up for every unit the firmware describes"))
        case nil where !snapshot.firmware.declarations.isEmpty:
            return .unknown(
                "the firmware declares an IOMMU (\(snapshot.firmware.declarations.joined(separator: ", "))) but no unit is registered: its driver may not be loaded or built"
            )
        case nil:
            return .off(.firmware("no ACPI table (DMAR, IVRS, IORT, VIOT) or device-tree node declares an IOMMU"))
        default:
            return snapshot.groups.isEmpty
                ? .unknown("an IOMMU driver the model does not simulate") : .on(.firmware("its IOMMU groups exist"))
        }
    }

    /// AMD SME is active when `mem_encrypt=on` is on the command line or the build turns it on by
    /// default (`CONFIG_AMD_MEM_ENCRYPT_ACTIVE_BY_DEFAULT=y`, until 6.x) without `mem_encrypt=off`; the
    /// last `mem_encrypt=` wins. SEV and TDX guests are not visible in a root and are not predicted.
    static func memoryEncryption(_ snapshot: Snapshot, family: String?) -> String? {
        guard family == "amd-iommu" else { return nil }
        let written = snapshot.kernel.commandLine?.parameters.last { $0.key == "mem_encrypt" }?.value
        if written == "on" { return "`mem_encrypt=on`" }
        if written == nil, snapshot.kernelConfig?.isEnabled("CONFIG_AMD_MEM_ENCRYPT_ACTIVE_BY_DEFAULT") == true {
            return "CONFIG_AMD_MEM_ENCRYPT_ACTIVE_BY_DEFAULT=y"
        }
        return nil
    }

    /// The first unit whose registers say it is emulated with not-present caching: Intel `cap` bit 7
    /// (CM) unless first-level tables are used by default (scalable mode), AMD `cap` bit 26 (NpCache).
    static func virtualisedUnit(_ units: [IOMMUUnit], scalableMode: Bool?) -> String? {
        for unit in units {
            switch unit.driver {
            case .intel(let cap?, let ecap):
                // first_level_by_default(): only in scalable mode (ecap bit 43 SMTS, enabled) with
                // first-level translation (ecap bit 47 FLTS).
                let scalable = (ecap.map { $0 & (1 << 43) != 0 } ?? false) && scalableMode == true
                let firstLevel = scalable && (ecap.map { $0 & (1 << 47) != 0 } ?? false)
                if cap & (1 << 7) != 0 && !firstLevel { return "\(unit.name): caching mode, cap bit 7" }
            case .amd(let cap?, _):
                if cap & (1 << 26) != 0 { return "\(unit.name): NpCache, cap bit 26" }
            default:
                continue
            }
        }
        return nil
    }

    /// The kernel's `kstrtobool()`: 1/y/Y/t/T, 0/n/N/f/F, on/off.
    static func kernelBool(_ text: String) -> Bool? {
        let lower = text.lowercased()
        if lower == "on" { return true }
        if lower == "off" { return false }
        switch lower.first {
        case "1", "y", "t": return true
        case "0", "n", "f": return false
        default: return nil
        }
    }

    /// An arm64 kernel: Debian's `-arm64` flavour, an `aarch64` compiler in `proc/version`, or an Arm
    /// SMMU unit.
    static func isARM64(_ snapshot: Snapshot) -> Bool {
        if snapshot.kernel.release?.hasSuffix("-arm64") == true || snapshot.kernel.versionLine?.contains("aarch64") == true { return true }
        return snapshot.iommus.contains { unit in
            switch unit.driver {
            case .armSMMUv3, .armSMMU: true
            default: false
            }
        }
    }

    static func distributionName(_ versionLine: String?) -> String {
        guard let line = versionLine else { return "the usual distribution" }
        for (needle, name) in [
            ("Debian", "Debian"), ("Ubuntu", "Ubuntu"), ("Red Hat", "Red Hat"), ("fedora", "Fedora"), ("SUSE", "SUSE"), ("Arch", "Arch"),
        ]
        where line.contains(needle) { return name }
        return "the usual distribution"
    }
}
