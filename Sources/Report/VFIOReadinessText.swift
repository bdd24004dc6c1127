import IOMMUModel
import JSON

/// A group's VFIO readiness: one line under the group in text (two when the host needs a member),
/// the `vfio` object in JSON (docs/json.md).
public enum VFIOReadinessText {
    public static func lines(_ readiness: VFIOReadiness) -> [String] {
        func list(_ bindings: [VFIOReadiness.Binding]) -> String {
            bindings.map { "\($0.device) (\($0.driver))" }.joined(separator: ", ")
        }
        let bind = readiness.toBind.map(\.description).joined(separator: ", ")
        var line: String
        switch readiness.verdict {
        case .notApplicable: return []
        case .inUse: line = "vfio: in use"
        case .ready: line = "vfio: ready — bind \(bind) to vfio-pci"
        case .unbind:
            let moving = readiness.mustUnbind.filter { readiness.toBind.contains($0.device) }
            let leaving = readiness.mustUnbind.filter { !readiness.toBind.contains($0.device) }
            let unbound = readiness.toBind.filter { address in !moving.contains { $0.device == address } }
            var steps: [String] = []
            if !moving.isEmpty { steps.append("move \(list(moving)) to vfio-pci") }
            if !leaving.isEmpty { steps.append("unbind \(list(leaving))") }
            if !unbound.isEmpty { steps.append("bind \(unbound.map(\.description).joined(separator: ", ")) to vfio-pci") }
            line = "vfio: " + steps.joined(separator: "; ")
        case .blocked: line = "vfio: blocked — " + readiness.blockers.joined(separator: "; ")
        }
        if !readiness.mayStay.isEmpty && readiness.verdict != .inUse { line += "; \(list(readiness.mayStay)) may stay" }
        var lines = ["  " + line]
        if !readiness.hostNeeds.isEmpty {
            lines.append("  vfio: the host needs this group: " + readiness.hostNeeds.joined(separator: "; "))
        }
        return lines
    }

    public static func write(_ readiness: VFIOReadiness, into json: inout JSONWriter) {
        json.object("vfio") { json in
            json.field("verdict", readiness.verdict.rawValue)
            for (key, bindings) in [("mustUnbind", readiness.mustUnbind), ("mayStay", readiness.mayStay)] {
                json.array(key) { json in
                    for binding in bindings {
                        json.object { json in
                            json.field("slot", binding.device.description)
                            json.field("driver", binding.driver)
                        }
                    }
                }
            }
            json.array("toBind") { json in for address in readiness.toBind { json.value(address.description) } }
            json.array("blockers") { json in for blocker in readiness.blockers { json.value(blocker) } }
            json.array("hostNeeds") { json in for need in readiness.hostNeeds { json.value(need) } }
        }
    }
}
