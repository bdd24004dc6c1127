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

    public var description: String {
        switch self {
        case .buildConfig(let option): option
        case .distributionDefault(let what): what
        case .commandLine(let parameter): "`\(parameter)`"
        case .virtualisedIOMMU(let what): "virtualised IOMMU, \(what)"
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

    /// True when the policy itself asked for identity (`iommu=pt`, `iommu.passthrough=1`, a build default).
    public var askedForIdentity: Bool { globalType == .identity }

    /// One sentence: "DMA-FQ (translated: distribution default …; lazy: …)".
    public var summary: String {
        if globalType == .identity { return "identity (passthrough from \(passthroughSource))" }
        return "\(globalType.rawValue) (translated: \(passthroughSource); \(isStrict ? "strict" : "lazy"): \(strictSource))"
    }
}

extension Model {
    /// The global policy from the build config (or the distribution default), the command line and
    /// the IOMMU units' registers. Cmdline parameters are applied in order, later ones win, as their
    /// `early_param` handlers do.
    public static func policy(for snapshot: Snapshot, rules: KernelRules) -> DomainPolicy {
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
        var strict = false
        var strictSource: PolicySource
        if let strictConfig = config?.isEnabled("CONFIG_IOMMU_DEFAULT_DMA_STRICT"), rules.hasFlushQueueType {
            strict = strictConfig
            strictSource = .buildConfig(strictConfig ? "CONFIG_IOMMU_DEFAULT_DMA_STRICT=y" : "CONFIG_IOMMU_DEFAULT_DMA_LAZY=y")
        } else {
            strictSource = .distributionDefault("\(distribution)'s default build")
        }
        var disabledBy: String?
        // intel_iommu= only reaches the Intel driver and amd_iommu= only the AMD one.
        let family = snapshot.iommus.first?.driver.name
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
            case "iommu":
                // arch/x86/kernel/pci-dma.c iommu_setup(): `pt`, `nopt`, `off` among others.
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
        // A virtualised IOMMU forces strict through iommu_set_dma_strict() at driver init, after the
        // command line, so it wins over iommu.strict=0.
        if rules.virtualisedIOMMUForcesStrict, !strict, let unit = virtualisedUnit(snapshot.iommus, scalableMode: scalableMode) {
            strict = true
            strictSource = .virtualisedIOMMU(unit)
        }
        let type: DomainType = passthrough ? .identity : (rules.hasFlushQueueType && !strict ? .dmaFQ : .dma)
        return DomainPolicy(globalType: type, passthroughSource: passthroughSource, isStrict: strict, strictSource: strictSource,
                            disabledBy: disabledBy, intelGraphicsIdentityMap: graphicsIdentity, intelScalableMode: scalableMode)
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

    static func distributionName(_ versionLine: String?) -> String {
        guard let line = versionLine else { return "the usual distribution" }
        for (needle, name) in [("Debian", "Debian"), ("Ubuntu", "Ubuntu"), ("Red Hat", "Red Hat"), ("fedora", "Fedora"), ("SUSE", "SUSE"), ("Arch", "Arch")]
        where line.contains(needle) { return name }
        return "the usual distribution"
    }
}
