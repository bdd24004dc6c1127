import IOMMUModel
import IOMMUSnapshot
import JSON

/// The posture ("which mode am I in") as text lines and as the `posture` JSON object (docs/json.md).
public enum PostureReport {
    /// A short block, one fact a line, label first.
    public static func lines(_ posture: Posture) -> [String] {
        var lines: [String] = []
        let units = posture.drivers.keys.sorted().map { "\($0): \(posture.drivers[$0, default: []].joined(separator: ", "))" }
        var iommu: String
        if posture.mode == .off {
            iommu = "off"
        } else {
            iommu = "on" + (units.isEmpty ? "" : " (\(units.joined(separator: "; ")))")
        }
        switch posture.translation {
        case .on(let source) where posture.mode != .off: iommu += " — \(source)"
        case .off(let source) where posture.mode == .off: iommu += " — \(source)"
        case .unknown(let why): iommu += " — what decides it is not known: \(why)"
        default: iommu += " — the rules predict \(posture.translation)"
        }
        lines.append("IOMMU:       " + iommu)
        lines.append("mode:        \(posture.mode.words) — \(posture.decidedBy)")
        if !posture.groupTypes.isEmpty {
            let counts = posture.groupTypes.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.value) \($0.key)" }
            lines.append("groups:      " + counts.joined(separator: ", "))
        }
        if let routes = posture.firmwareRoutes {
            switch routes {
            case .known(let summary, _):
                var parts = summary.translated.map { entry in
                    "\(entry.functions.count) PCI function\(entry.functions.count == 1 ? "" : "s") to \(entry.iommu.name) (\(entry.iommu.source))"
                }
                if parts.isEmpty { parts.append("no PCI function to an IOMMU") }
                parts.append(
                    summary.bypassing.isEmpty
                        ? "none past every IOMMU"
                        : "past every IOMMU (untranslated by design): " + summary.bypassing.map(\.description).joined(separator: ", "))
                lines.append("routes:      " + parts.joined(separator: "; "))
            case .unknown(let why):
                lines.append("routes:      not checked (\(why))")
            }
        }
        lines.append("interrupts:  " + words(posture.interruptRemapping, yes: "remapped", no: "NOT remapped"))
        var vfio = [
            "iommufd " + words(posture.iommufd, yes: "present", no: "absent"),
            "device files " + (posture.vfioDeviceFiles.value.map(String.init) ?? "not checked"),
            "no-IOMMU mode " + words(posture.vfioNoIOMMUMode, yes: "ENABLED", no: "off", evidence: false),
            "unsafe interrupts " + words(posture.vfioAllowUnsafeInterrupts, yes: "ALLOWED", no: "refused", evidence: false),
        ]
        if !posture.noIOMMUGroups.isEmpty {
            vfio.append("no-IOMMU groups " + posture.noIOMMUGroups.map(String.init).joined(separator: ", "))
        }
        lines.append("VFIO:        " + vfio.joined(separator: "; "))
        // The DMAR opt-in is Intel's; on an Arm or virtio-iommu host without a DMAR it says nothing.
        var external: [String] = []
        if posture.firmwareRoutes == nil || posture.platformOptIn.value != false {
            external.append("DMAR opt-in " + words(posture.platformOptIn, yes: "set", no: "not set", evidence: false))
        }
        for (domain, on) in posture.thunderboltDMAProtection.sorted(by: { $0.key < $1.key }) {
            external.append("Thunderbolt \(domain) " + (on ? "protected by the IOMMU" : "NOT protected by the IOMMU"))
        }
        external.append(
            posture.untrustedDevices.isEmpty
                ? "no untrusted devices"
                : "untrusted (strict DMA): " + posture.untrustedDevices.map(\.description).joined(separator: ", "))
        lines.append("external:    " + external.joined(separator: "; "))
        return lines
    }

    static func words(_ fact: PostureFact<Bool>, yes: String, no: String, evidence: Bool = true) -> String {
        switch fact {
        case .known(let value, let because): (value ? yes : no) + (evidence ? " (\(because))" : "")
        case .unknown(let why): "not checked (\(why))"
        }
    }

    /// The `posture` object.
    public static func write(_ posture: Posture, key: String = "posture", into json: inout JSONWriter) {
        json.object(key) { json in
            json.object("iommu") { json in
                json.field("on", posture.mode != .off)
                json.array("drivers") { json in
                    for driver in posture.drivers.keys.sorted() {
                        json.object { json in
                            json.field("driver", driver)
                            json.array("units") { json in for unit in posture.drivers[driver, default: []] { json.value(unit) } }
                        }
                    }
                }
                let predicted: String
                switch posture.translation {
                case .on: predicted = "on"
                case .off: predicted = "off"
                case .unknown: predicted = "unknown"
                }
                json.field("predicted", predicted)
                json.field("decidedBy", posture.translation.reason)
            }
            json.field("mode", posture.mode.rawValue)
            json.field("decidedBy", posture.decidedBy)
            json.field("asPredicted", posture.modeAsPredicted)
            json.array("groupTypes") { json in
                for (type, count) in posture.groupTypes.sorted(by: { $0.key < $1.key }) {
                    json.object { json in
                        json.field("type", type)
                        json.field("groups", count)
                    }
                }
            }
            if let routes = posture.firmwareRoutes {
                json.object("firmwareRoutes") { json in
                    json.field("known", routes.value != nil)
                    json.array("iommus") { json in
                        for entry in routes.value?.translated ?? [] {
                            json.object { json in
                                json.field("iommu", entry.iommu.name)
                                json.field("source", entry.iommu.source)
                                json.array("functions") { json in for address in entry.functions { json.value(address.description) } }
                            }
                        }
                    }
                    json.array("bypassing") { json in for address in routes.value?.bypassing ?? [] { json.value(address.description) } }
                    if case .unknown(let why) = routes { json.field("why", why) } else { json.field("why", nil as String?) }
                }
            } else {
                json.field("firmwareRoutes", nil as String?)
            }
            fact("interruptRemapping", posture.interruptRemapping, into: &json)
            json.object("vfio") { json in
                fact("iommufd", posture.iommufd, into: &json)
                switch posture.vfioDeviceFiles {
                case .known(let count, _): json.field("deviceFiles", count)
                case .unknown: json.field("deviceFiles", nil as Int?)
                }
                json.array("noIOMMUGroups") { json in for id in posture.noIOMMUGroups { json.value(id) } }
                fact("noIOMMUMode", posture.vfioNoIOMMUMode, into: &json)
                fact("allowUnsafeInterrupts", posture.vfioAllowUnsafeInterrupts, into: &json)
            }
            json.object("dmaProtection") { json in
                fact("platformOptIn", posture.platformOptIn, into: &json)
                json.array("thunderbolt") { json in
                    for (domain, on) in posture.thunderboltDMAProtection.sorted(by: { $0.key < $1.key }) {
                        json.object { json in
                            json.field("domain", domain)
                            json.field("iommuDMAProtection", on)
                        }
                    }
                }
                json.array("untrustedDevices") { json in for address in posture.untrustedDevices { json.value(address.description) } }
            }
            json.array("notChecked") { json in for item in posture.notChecked { json.value(item) } }
        }
    }

    /// `{"known": …, "value": …, "evidence": …, "why": …}`: `value` and `evidence` when known, `why` when not.
    static func fact(_ key: String, _ fact: PostureFact<Bool>, into json: inout JSONWriter) {
        json.object(key) { json in
            json.field("known", fact.value != nil)
            json.field("value", fact.value)
            switch fact {
            case .known(_, let evidence):
                json.field("evidence", evidence)
                json.field("why", nil as String?)
            case .unknown(let why):
                json.field("evidence", nil as String?)
                json.field("why", why)
            }
        }
    }
}
