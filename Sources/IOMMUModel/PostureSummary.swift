/// The posture as a fleet compares it: the mode and the switches it alerts on, each a short word.
/// Built from `Posture`, which holds the evidence. The one definition of "the posture changed": the
/// daemon's `posture-changed` event and `diff` both ask `changes(from:)`.
public struct PostureSummary: Sendable, Hashable {
    /// `DomainMode` raw value: translated-lazy, translated-strict, passthrough, off.
    public var mode: String
    /// What decided the mode (a sentence, for people).
    public var decidedBy: String
    /// The groups are in the mode the rules predict.
    public var asPredicted: Bool
    /// remapped, not-remapped or unknown.
    public var interruptRemapping: String
    /// present, absent or unknown.
    public var iommufd: String
    /// Groups VFIO made without an IOMMU.
    public var noIOMMUGroups: Int
    /// VFIO's enable_unsafe_noiommu_mode: on, off or unknown.
    public var vfioNoIOMMUMode: String
    /// vfio_iommu_type1's allow_unsafe_interrupts: on, off or unknown.
    public var vfioUnsafeInterrupts: String

    public init(
        mode: String, decidedBy: String, asPredicted: Bool, interruptRemapping: String, iommufd: String, noIOMMUGroups: Int,
        vfioNoIOMMUMode: String, vfioUnsafeInterrupts: String
    ) {
        self.mode = mode
        self.decidedBy = decidedBy
        self.asPredicted = asPredicted
        self.interruptRemapping = interruptRemapping
        self.iommufd = iommufd
        self.noIOMMUGroups = noIOMMUGroups
        self.vfioNoIOMMUMode = vfioNoIOMMUMode
        self.vfioUnsafeInterrupts = vfioUnsafeInterrupts
    }

    public init(_ posture: Posture) {
        func word(_ fact: PostureFact<Bool>, _ yes: String, _ no: String) -> String { fact.value.map { $0 ? yes : no } ?? "unknown" }
        self.init(
            mode: posture.mode.rawValue, decidedBy: posture.decidedBy, asPredicted: posture.modeAsPredicted,
            interruptRemapping: word(posture.interruptRemapping, "remapped", "not-remapped"),
            iommufd: word(posture.iommufd, "present", "absent"), noIOMMUGroups: posture.noIOMMUGroups.count,
            vfioNoIOMMUMode: word(posture.vfioNoIOMMUMode, "on", "off"),
            vfioUnsafeInterrupts: word(posture.vfioAllowUnsafeInterrupts, "on", "off"))
    }

    /// What a change is judged by: everything but the sentence.
    var comparable: [String] {
        [mode, interruptRemapping, iommufd, String(noIOMMUGroups), vfioNoIOMMUMode, vfioUnsafeInterrupts]
    }

    /// The switches that differ from `previous`, as "name was → now".
    public func changes(from previous: PostureSummary) -> [String] {
        let names = ["mode", "interrupt remapping", "iommufd", "VFIO no-IOMMU groups", "VFIO no-IOMMU mode", "VFIO unsafe interrupts"]
        return zip(names, zip(previous.comparable, comparable)).filter { $0.1.0 != $0.1.1 }.map { "\($0.0) \($0.1.0) → \($0.1.1)" }
    }

    /// One line: `translated-lazy; interrupts remapped; iommufd present`.
    public var line: String {
        var parts = [mode, "interrupts \(interruptRemapping)", "iommufd \(iommufd)"]
        if noIOMMUGroups > 0 { parts.append("\(noIOMMUGroups) VFIO no-IOMMU groups") }
        if vfioNoIOMMUMode == "on" { parts.append("VFIO no-IOMMU mode on") }
        if vfioUnsafeInterrupts == "on" { parts.append("VFIO unsafe interrupts allowed") }
        return parts.joined(separator: "; ")
    }
}
