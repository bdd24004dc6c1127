import IOMMUSnapshot
import JSON
import Reconcile

/// The `scan --format json` document (schema: docs/json.md). Field names and order are stable.
public enum ScanJSON {
    /// Divergences alone, as a reconciliation that found nothing else.
    public static func render(_ snapshot: Snapshot, divergences: [Divergence], unverified: [Unverified] = []) -> [UInt8] {
        render(snapshot, Reconciliation(divergences: divergences, unverified: unverified))
    }

    public static func render(_ snapshot: Snapshot, _ found: Reconciliation, names: PCINames? = nil) -> [UInt8] {
        let (divergences, unverified) = (found.divergences, found.unverified)
        var json = JSONWriter(reservingCapacity: 1024 + snapshot.pciDevices.count * 320)
        let devices = Dictionary(snapshot.pciDevices.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
        json.object { json in
            json.object("kernel") { json in
                json.field("release", snapshot.kernel.release)
                json.field("cmdline", snapshot.kernel.commandLine?.raw)
            }
            json.array("iommus") { json in
                for unit in snapshot.iommus {
                    json.object { json in
                        json.field("name", unit.name)
                        json.field("driver", unit.driver.name)
                    }
                }
            }
            json.array("groups") { json in
                for group in snapshot.groups {
                    json.object { json in
                        json.field("id", group.id)
                        json.field("type", group.type.domainType?.rawValue)
                        json.array("reservedRegions") { json in
                            for region in group.reservedRegions {
                                json.object { json in
                                    json.field("start", ReservedRegion.format(region.start))
                                    json.field("end", ReservedRegion.format(region.end))
                                    json.field("type", region.type.rawValue)
                                }
                            }
                        }
                        json.array("devices") { json in
                            for member in group.members {
                                let device = member.pciAddress.flatMap { devices[$0] }
                                json.object { json in
                                    json.field("slot", member.name)
                                    json.field("bus", member.bus)
                                    json.field("vendor", device?.vendorID.map { "0x" + Hex.string(UInt64($0), width: 4) })
                                    json.field("device", device?.deviceID.map { "0x" + Hex.string(UInt64($0), width: 4) })
                                    json.field("class", device?.classCode.map { "0x" + Hex.string(UInt64($0), width: 6) })
                                    json.field("driver", device?.driver)
                                    json.field("dmaMaskBits", device?.dmaMaskBits)
                                    json.field("removable", device?.removable?.rawValue)
                                    json.field(
                                        "name",
                                        device.flatMap { device in
                                            device.vendorID.flatMap { vendor in
                                                device.deviceID.flatMap { names?.name(vendor: vendor, device: $0) }
                                            }
                                        })
                                }
                            }
                        }
                        json.array("reasons") { json in
                            for reason in found.reasons[group.id] ?? [] { json.value(reason) }
                        }
                        if let readiness = found.vfio[group.id] { VFIOReadinessText.write(readiness, into: &json) }
                    }
                }
            }
            divergenceArray("divergences", divergences, into: &json)
            json.array("errors") { json in
                for error in snapshot.errors {
                    json.object { json in
                        json.field("path", error.path)
                        json.field("message", error.message)
                    }
                }
            }
            json.array("unverified") { json in
                for item in unverified {
                    json.object { json in
                        json.field("group", item.group)
                        json.array("slots") { json in
                            for member in item.members { json.value(member.description) }
                        }
                        json.field("question", item.question)
                        json.field("reason", item.reason)
                        json.field("remedy", item.remedy)
                    }
                }
            }
            if let posture = found.posture { PostureReport.write(posture, into: &json) }
        }
        var bytes = json.bytes
        bytes.append(0x0a)
        return bytes
    }

    /// An array of divergences as docs/json.md describes them; `simulate --format json` uses it too.
    public static func divergenceArray(_ key: String, _ divergences: [Divergence], into json: inout JSONWriter) {
        json.array(key) { json in
            for divergence in divergences {
                json.object { json in
                    json.field("name", divergence.kind.name)
                    json.field("messageId", divergence.kind.messageID)
                    json.field("severity", divergence.severity.rawValue)
                    json.field("key", divergence.key)
                    json.field("group", divergence.group)
                    json.field("slot", divergence.slot?.description)
                    json.field("message", divergence.message)
                }
            }
        }
    }
}
