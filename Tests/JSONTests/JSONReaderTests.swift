import Foundation
import Testing
@testable import JSON

private func parse(_ text: String, limits: JSONReader.Limits = JSONReader.Limits()) throws(JSONReadError) -> JSONValue {
    try JSONReader.parse(Array(text.utf8), file: "/run/test.json", limits: limits)
}

/// The reason `text` is refused, or nil when it parses.
private func refusal(_ text: String, limits: JSONReader.Limits = JSONReader.Limits()) -> JSONReadError.Reason? {
    refusal(Array(text.utf8), limits: limits)
}

private func refusal(_ bytes: [UInt8], limits: JSONReader.Limits = JSONReader.Limits()) -> JSONReadError.Reason? {
    do throws(JSONReadError) {
        _ = try JSONReader.parse(bytes, file: "/run/test.json", limits: limits)
        return nil
    } catch {
        #expect(error.file == "/run/test.json")
        #expect(error.description.hasPrefix("/run/test.json"))
        return error.reason
    }
}

/// A document that exercises every writer feature: nesting, empty containers, escapes, null, booleans.
private func sampleDocument() -> [UInt8] {
    var json = JSONWriter()
    json.object { json in
        json.field("text", "quote \" backslash \\ slash / tab \t newline \n control \u{01} é 😀")
        json.field("count", -42)
        json.field("absent", nil as Int?)
        json.field("yes", true)
        json.field("no", false)
        json.array("empty") { _ in }
        json.object("nothing") { _ in }
        json.array("list") { json in
            json.value("a")
            json.object { json in json.field("inner", 1) }
        }
    }
    return json.bytes + [0x0a]
}

@Suite struct JSONReaderTests {
    @Test func readsWhatTheWriterWrites() throws {
        let value = try JSONReader.parse(sampleDocument(), file: "sample")
        #expect(
            value
                == .object([
                    "text": .string("quote \" backslash \\ slash / tab \t newline \n control \u{01} é 😀"),
                    "count": .integer(-42), "absent": .null, "yes": .bool(true), "no": .bool(false),
                    "empty": .array([]), "nothing": .object([:]),
                    "list": .array([.string("a"), .object(["inner": .integer(1)])]),
                ]))
    }

    @Test func agreesWithFoundationOnTheWritersOutput() throws {
        let foundation = try JSONSerialization.jsonObject(with: Data(sampleDocument())) as? [String: Any]
        #expect(foundation?["text"] as? String == "quote \" backslash \\ slash / tab \t newline \n control \u{01} é 😀")
        #expect(foundation?["count"] as? Int == -42)
    }

    @Test func readsRFC8259Details() throws {
        #expect(try parse(#""\u00e9\ud83d\ude00\/\b\f\r""#) == .string("é😀/\u{08}\u{0c}\r"))
        #expect(
            try parse(" [1, -0, 0.5, 1e3, -2.5E-3, 9223372036854775807, 9223372036854775808] ")
                == .array([
                    .integer(1), .integer(0), .number("0.5"), .number("1e3"), .number("-2.5E-3"), .integer(Int.max),
                    .number("9223372036854775808"),
                ]))
        #expect(try parse("null") == .null)
        #expect(try parse("{\"a\":{\"b\":[]}}") == .object(["a": .object(["b": .array([])])]))
    }

    @Test func refusesTruncatedInputAtEveryLength() {
        let document = sampleDocument()
        // Every proper prefix is refused (the last byte is the newline, so stop before the closing brace).
        for length in 0..<(document.count - 1) {
            let reason = refusal(Array(document[0..<length]))
            #expect(reason != nil, "prefix of \(length) bytes was accepted")
        }
        #expect(refusal("") == .truncated)
        #expect(refusal("{\"a\": [1, 2") == .truncated)
        #expect(refusal("\"abc") == .truncated)
        #expect(refusal("\"\\u12") == .truncated)
        #expect(refusal("tru") == .truncated)
        #expect(refusal("-") == .truncated)
    }

    @Test func refusesGarbage() {
        #expect(refusal("{\"a\": 1,}") == .unexpected(byte: UInt8(ascii: "}"), expected: "a key"))
        #expect(refusal("[1,]") == .unexpected(byte: UInt8(ascii: "]"), expected: "a value"))
        #expect(refusal("[1 2]") == .unexpected(byte: UInt8(ascii: "2"), expected: "',' or ']'"))
        #expect(refusal("{'a': 1}") == .unexpected(byte: UInt8(ascii: "'"), expected: "a key"))
        #expect(refusal("{\"a\" 1}") == .unexpected(byte: UInt8(ascii: "1"), expected: "':'"))
        #expect(refusal("[NaN]") == .unexpected(byte: UInt8(ascii: "N"), expected: "a value"))
        #expect(refusal("[Infinity]") == .unexpected(byte: UInt8(ascii: "I"), expected: "a value"))
        #expect(refusal("nul") == .truncated)
        #expect(refusal("nulL") == .unexpected(byte: UInt8(ascii: "L"), expected: "null"))
        #expect(refusal("{} {}") == .trailingData)
        #expect(refusal("{}x") == .trailingData)
        #expect(refusal("// comment\n{}") == .unexpected(byte: UInt8(ascii: "/"), expected: "a value"))
        #expect(refusal([0xef, 0xbb, 0xbf] + Array("{}".utf8)) == .unexpected(byte: 0xef, expected: "a value"))
        #expect(refusal("[01]") == .invalidNumber)
        #expect(refusal("[1.]") == .invalidNumber)
        #expect(refusal("[.5]") == .unexpected(byte: UInt8(ascii: "."), expected: "a value"))
        #expect(refusal("[1e]") == .invalidNumber)
        #expect(refusal("[+1]") == .unexpected(byte: UInt8(ascii: "+"), expected: "a value"))
        #expect(refusal("\"tab\there\"") == .controlCharacter)
        #expect(refusal("\"\\x41\"") == .invalidEscape)
        #expect(refusal("\"\\u12G4\"") == .invalidEscape)
        #expect(refusal("\"\\ud83d\"") == .loneSurrogate)
        #expect(refusal("\"\\ude00\"") == .loneSurrogate)
        #expect(refusal("\"\\ud83d\\u0041\"") == .loneSurrogate)
        #expect(refusal([0x22, 0xff, 0x22]) == .invalidUTF8)
        #expect(refusal([0x22, 0xc0, 0xaf, 0x22]) == .invalidUTF8)  // overlong '/'
        #expect(refusal([0x22, 0xed, 0xa0, 0x80, 0x22]) == .invalidUTF8)  // UTF-8 encoded surrogate
        #expect(refusal("{\"a\": 1, \"a\": 2}") == .duplicateKey("a"))
    }

    @Test func randomBytesNeverCrash() {
        var generator = SplitMix(seed: 0x5eed)
        let alphabet = Array("{}[]\",:\\ truefalsnul0123456789-+.eEu\n".utf8)
        for _ in 0..<5_000 {
            let length = Int(generator.next() % 64)
            let bytes = (0..<length).map { _ in
                generator.next() % 4 == 0
                    ? UInt8(truncatingIfNeeded: generator.next()) : alphabet[Int(generator.next() % UInt64(alphabet.count))]
            }
            _ = refusal(bytes)
        }
        // Mutations of a valid document: each byte replaced or dropped in turn.
        let document = sampleDocument()
        for index in document.indices {
            var replaced = document
            replaced[index] = UInt8(truncatingIfNeeded: generator.next())
            _ = refusal(replaced)
            var dropped = document
            dropped.remove(at: index)
            _ = refusal(dropped)
        }
    }

    @Test func refusesDeepNestingWithoutRecursingIntoIt() {
        let deep = String(repeating: "[", count: 1_000_000) + String(repeating: "]", count: 1_000_000)
        #expect(refusal(deep) == .tooDeep(limit: 32))
        #expect(refusal(String(repeating: "{\"a\":", count: 100_000)) == .tooDeep(limit: 32))
        let limits = JSONReader.Limits(depth: 3)
        #expect(refusal("[[[1]]]", limits: limits) == nil)
        #expect(refusal("[[[[1]]]]", limits: limits) == .tooDeep(limit: 3))
        #expect(refusal("{\"a\":{\"b\":{\"c\":{}}}}", limits: limits) == .tooDeep(limit: 3))
    }

    @Test func refusesHugeInputBeforeParsing() {
        let limits = JSONReader.Limits(bytes: 1024)
        #expect(refusal("\"" + String(repeating: "x", count: 2000) + "\"", limits: limits) == .tooLarge(limit: 1024))
        #expect(refusal("\"" + String(repeating: "x", count: 1000) + "\"", limits: limits) == nil)
        let huge = [UInt8](repeating: 0x20, count: (8 << 20) + 1)
        #expect(refusal(huge) == .tooLarge(limit: 8 << 20))
        let many = "[" + Array(repeating: "0", count: 2_000).joined(separator: ",") + "]"
        #expect(refusal(many, limits: JSONReader.Limits(values: 1_000)) == .tooManyValues(limit: 1_000))
        #expect(refusal(many, limits: JSONReader.Limits(values: 2_001)) == nil)
    }

    @Test func errorsNameTheFileAndTheOffset() {
        do throws(JSONReadError) {
            _ = try parse("{\n  \"a\": [1, 2,, 3]\n}")
            Issue.record("accepted")
        } catch {
            #expect(error.offset == 15)
            #expect(error.description == "/run/test.json, byte 15: ',' where a value was expected")
        }
    }

    @Test func fieldsCheckTypesAndNamePaths() throws {
        let value = try parse(#"{"n": 1, "s": "x", "b": true, "z": null, "list": [{"id": "7"}], "map": {"k": 2}}"#)
        let fields = try JSONFields(value, file: "f")
        #expect(try fields.int("n") == 1)
        #expect(try fields.optionalString("z") == nil)
        #expect(try fields.optionalString("missing") == nil)
        #expect(try fields.optionalInt("z") == nil)
        #expect(throws: JSONReadError(file: "f", offset: nil, reason: .field("s", expected: "an integer", found: "a string"))) {
            _ = try fields.int("s")
        }
        #expect(throws: JSONReadError(file: "f", offset: nil, reason: .field("missing", expected: "true or false", found: "missing"))) {
            _ = try fields.bool("missing")
        }
        #expect(throws: JSONReadError(file: "f", offset: nil, reason: .field("list[0].id", expected: "an integer", found: "a string"))) {
            _ = try fields.objects("list") { item throws(JSONReadError) in try item.int("id") }
        }
        #expect(throws: JSONReadError(file: "f", offset: nil, reason: .field("map.k", expected: "a string", found: "a number"))) {
            _ = try fields.stringMap("map")
        }
        #expect(throws: JSONReadError(file: "f", offset: nil, reason: .field("the document", expected: "an object", found: "an array"))) {
            _ = try JSONFields(.array([]), file: "f")
        }
    }
}

/// A small deterministic generator, so failures reproduce.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e3779b97f4a7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }
}
