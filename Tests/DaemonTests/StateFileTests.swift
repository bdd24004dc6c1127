import Foundation
import IOMMUSnapshot
import Reconcile
import JSON
import Testing
@testable import Daemon

private func sampleState() -> StateFile {
    let state = ObservedState(
        groups: [
            group(5, ["0000:02:01.0", "0000:02:01.1"], drivers: ["0000:02:01.0": "vfio-pci", "0000:02:01.1": nil]),
            group(0, ["0000:00:00.0", "MSFT0201:00"], type: nil),
        ],
        divergences: [divergence(key: "vfio/5"), divergence(TestKinds.sharedIdentity, key: "shared/0", group: nil, slot: nil)],
        readErrors: ["sys/kernel/iommu_groups/7/type": "malformed: \"quoted\" \\ and\nnewline"],
        kernelRelease: "6.1.0-28-amd64", pciDeviceCount: 14)
    return StateFile(
        pid: 4242, root: "/", started: "2025-01-31T12:00:00Z", updated: "2025-01-31T12:05:00Z", rescans: 3,
        configFiles: ["/etc/iommu-watch/iommu-watch.conf"], state: state, since: ["vfio/5": "2025-01-31T12:01:00Z"],
        config: DaemonConfig())
}

private func refusal(_ text: String) -> JSONReadError? {
    do throws(JSONReadError) {
        _ = try StateFile.decode(Array(text.utf8), file: "/run/iommu-watch/state.json")
        return nil
    } catch {
        return error
    }
}

@Suite struct StateFileTests {
    @Test func readsBackWhatItWrites() throws {
        let file = sampleState()
        #expect(file.groups.count == 2 && file.divergences.count == 2 && file.readErrors.count == 1)
        #expect(try StateFile.decode(file.encoded()) == file)
    }

    @Test func hasTheDocumentedFieldsAndIsPlainJSON() throws {
        let bytes = sampleState().encoded()
        #expect(bytes.last == 0x0a)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "version", "pid", "root", "started", "updated", "rescans", "kernel", "hasIOMMUGroups", "pciDevices",
                "configFiles", "groups", "divergences", "readErrors", "unverified",
            ])
        let groups = try #require(object["groups"] as? [[String: Any]])
        #expect(Set(groups[0].keys) == ["id", "type", "members", "drivers"])
        #expect(groups[1]["drivers"] as? [String: String] == ["0000:02:01.0": "vfio-pci"])
        let entries = try #require(object["divergences"] as? [[String: Any]])
        #expect(
            Set(entries[0].keys) == [
                "name", "messageId", "key", "severity", "group", "slot", "message", "domainType", "expected",
                "observed", "since", "hidden",
            ])
        #expect(object["version"] as? Int == 1)
        #expect(object["hasIOMMUGroups"] as? Bool == true)
    }

    /// What the daemon wrote before (Foundation's JSONEncoder: sorted keys, `" : "`, absent optionals
    /// left out) still reads, so `status` works across an upgrade.
    @Test func readsTheEarlierEncoderLayout() throws {
        let earlier = """
            {
              "configFiles" : [

              ],
              "divergences" : [
                {
                  "hidden" : false,
                  "key" : "shared/0",
                  "message" : "m",
                  "messageId" : "fedcba9876543210fedcba9876543210",
                  "name" : "shared-identity-domain",
                  "severity" : "notice",
                  "since" : "2025-01-31T12:00:00Z"
                }
              ],
              "groups" : [
                {
                  "drivers" : {
                    "0000:00:1f.2" : "ahci"
                  },
                  "id" : 0,
                  "members" : [
                    "0000:00:1f.2"
                  ]
                }
              ],
              "hasIOMMUGroups" : true,
              "pciDevices" : 1,
              "pid" : 77,
              "readErrors" : [

              ],
              "rescans" : 0,
              "root" : "/",
              "started" : "2025-01-31T12:00:00Z",
              "updated" : "2025-01-31T12:00:00Z",
              "version" : 1
            }

            """
        let file = try StateFile.decode(Array(earlier.utf8))
        #expect(file.pid == 77 && file.kernel == nil && file.configFiles == [])
        #expect(file.groups == [StateFile.Group(id: 0, type: nil, members: ["0000:00:1f.2"], drivers: ["0000:00:1f.2": "ahci"])])
        #expect(file.divergences.first?.group == nil && file.divergences.first?.slot == nil)
    }

    @Test func refusesTamperedFilesNamingTheFileAndTheField() throws {
        let text = String(decoding: sampleState().encoded(), as: UTF8.self)
        let path = "/run/iommu-watch/state.json"
        #expect(refusal(String(text.dropLast(10)))?.reason == .truncated)
        #expect(refusal(String(text.dropLast(10)))?.description.hasPrefix(path + ", byte ") == true)
        #expect(refusal("garbage")?.reason == .unexpected(byte: UInt8(ascii: "g"), expected: "a value"))
        #expect(refusal("[]")?.reason == .field("the document", expected: "an object", found: "an array"))
        #expect(
            refusal(text.replacingOccurrences(of: "\"pid\": 4242", with: "\"pid\": \"4242\""))?.reason
                == .field("pid", expected: "an integer", found: "a string"))
        #expect(
            refusal(text.replacingOccurrences(of: "\"pid\": 4242", with: "\"pid\": 99999999999"))?.reason
                == .field("pid", expected: "a process ID", found: "99999999999"))
        #expect(
            refusal(text.replacingOccurrences(of: "\"pid\": 4242", with: "\"pid\": -1"))?.reason
                == .field("pid", expected: "a process ID", found: "-1"))
        #expect(
            refusal(text.replacingOccurrences(of: "\"id\": 5", with: "\"id\": 5.5"))?.reason
                == .field("groups[1].id", expected: "an integer", found: "a number"))
        #expect(
            refusal(text.replacingOccurrences(of: "\"hidden\": false", with: "\"hidden\": 0"))?.reason
                == .field("divergences[0].hidden", expected: "true or false", found: "a number"))
        #expect(
            refusal(text.replacingOccurrences(of: "\"vfio-pci\"", with: "[\"vfio-pci\"]"))?.reason
                == .field("groups[1].drivers.0000:02:01.0", expected: "a string", found: "an array"))
        #expect(
            refusal(text.replacingOccurrences(of: "\"rescans\": 3,", with: ""))?.reason
                == .field("rescans", expected: "an integer", found: "missing"))
        #expect(
            refusal(text.replacingOccurrences(of: "\"rescans\": 3,", with: "\"rescans\": 3, \"rescans\": 4,"))?.reason
                == .duplicateKey("rescans"))
        let deep = "{\"pid\": 1, \"x\": " + String(repeating: "[", count: 100_000)
        #expect(refusal(deep)?.reason == .tooDeep(limit: StateFile.readLimits.depth))
    }
}
