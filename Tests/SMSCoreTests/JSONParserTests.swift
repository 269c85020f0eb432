import SMSCore
import Testing

@Suite struct JSONParserTests {
    func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func parsesScalarsObjectsAndArrays() throws {
        let v = try parse(#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "d"}, "e": ""} "#)
        #expect(v["a"] == .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null]))
        #expect(v["b"]?["c"] == .string("d"))
        #expect(v["e"] == .string(""))
        #expect(v["missing"] == nil)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let v = try parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\udc4d""#)
        #expect(v == .string("a\"b\\c/d\n\té👍"))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "1.", "-", "tru", "nul", "\"abc", "{} x",
        "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"a\u{01}b\"", "[1 2]", "{1:2}", "NaN", "'a'",
    ])
    func rejectsMalformedInput(text: String) {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func rejectsInvalidUTF8() {
        let bytes: [UInt8] = Array(#"{"message":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(bytes) }
        let overlong: [UInt8] = [0x22, 0xC0, 0xAF, 0x22]
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(overlong) }
    }

    @Test func limitsNesting() throws {
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect(throws: Never.self) { try JSONParser.parse(Array(ok.utf8)) }
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(Array(deep.utf8)) }
        let hostile = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(Array(hostile.utf8)) }
    }

    @Test func writerEscapesAndRoundTrips() throws {
        let value = JSONValue.object([
            ("text", .string("quote\" back\\ nl\n tab\t bell\u{07} é 👍")),
            ("list", .array([.number("1"), .null, .bool(true)])),
        ])
        #expect(value.json == #"{"text":"quote\" back\\ nl\n tab\t bell\u0007 é 👍","list":[1,null,true]}"#)
        #expect(try parse(value.json) == value)
        var w = JSONWriter()
        w.beginObject()
        w.key("job")
        w.rawJSON(#"{"id":"j"}"#)
        w.field("n", 1)
        w.endObject()
        #expect(w.text == #"{"job":{"id":"j"},"n":1}"#)
    }

    @Test func writerNestsPastSixtyFourLevelsAndWritesIntegers() throws {
        var value = JSONValue.array([.number("0"), .number("-12"), .number("9223372036854775807")])
        for depth in 0..<100 { value = depth % 2 == 0 ? .array([value, .string("d\(depth)")]) : .object([("k", value), ("n", .null)]) }
        #expect(try JSONParser.parse(Array(value.json.utf8), maxDepth: 200) == value)
        var w = JSONWriter()
        w.beginArray()
        for n in [0, 7, 10, -1, -45, Int.max, Int.min] { w.int(n) }
        w.endArray()
        #expect(w.text == "[0,7,10,-1,-45,9223372036854775807,-9223372036854775808]")
    }

    @Test func writerEscapesWhereverTheCharacterFalls() throws {
        // the escaper skips eight clean bytes at a time: put each special character at every offset of a long text
        for special in ["\"", "\\", "\n", "\u{01}", "\u{1F}"] {
            for offset in 0..<20 {
                let text = String(repeating: "a", count: offset) + special + "é 👍 tail of the text"
                var w = JSONWriter()
                w.string(text)
                #expect(try JSONParser.parse(w.bytes) == .string(text))
                #expect(!w.text.dropFirst().dropLast().contains { $0 == "\n" || $0 == "\u{01}" || $0 == "\u{1F}" })
            }
        }
        var w = JSONWriter()
        w.string(String(repeating: "clean é ", count: 10))
        #expect(w.text == "\"" + String(repeating: "clean é ", count: 10) + "\"")
    }

    /// Doubles are written as `String(value)` writes them; hundredths up to 100 (confidences) take a path of their
    /// own, which must give the same text.
    @Test func writerWritesDoublesAsSwiftDoes() {
        var values = (0...10_000).map { Double($0) / 100 }
        values += [0.001, 0.125, 1.0 / 3, 100.01, 1e-7, 2.5e20, -0.0, -0.5, 0.1 + 0.2, Double.ulpOfOne, 99.999]
        for value in values {
            var w = JSONWriter()
            w.beginObject()
            w.field("c", value)
            w.field("next", 1)
            w.endObject()
            #expect(w.text == #"{"c":\#(String(value)),"next":1}"#, "\(value)")
        }
        var w = JSONWriter()
        w.field("x", Double.nan)
        #expect(w.text == #""x":null"#)
    }

    @Test func asciiSearchMatchesTheUTF8View() {
        for text in ["", "{", "plain", "a {meta.x}", "é 👍 {", String(repeating: "x", count: 40) + "{"] {
            #expect(text.containsASCII(UInt8(ascii: "{")) == text.utf8.contains(UInt8(ascii: "{")))
        }
    }

    /// A member whose value has nothing to escape and is short is written in one piece; others member by member:
    /// both read back as written.
    @Test func fieldsReadBackWhateverTheirValue() throws {
        var values = ["", "plain", String(repeating: "x", count: 512), String(repeating: "y", count: 513), "é 👍"]
        for special in ["\"", "\\", "\n", "\u{01}"] {
            for offset in [0, 7, 8, 9, 20] { values.append(String(repeating: "a", count: offset) + special + "tail") }
        }
        for value in values {
            var w = JSONWriter()
            w.beginObject()
            w.field("first", value)
            w.field("second", value)
            w.endObject()
            #expect(try JSONParser.parse(w.bytes) == .object([("first", .string(value)), ("second", .string(value))]))
        }
    }
}
