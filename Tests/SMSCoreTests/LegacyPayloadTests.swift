import SMSCore
import Testing

@Suite struct LegacyPayloadTests {
    let limits = IngestLimits()

    func decode(_ text: String) throws(PayloadError) -> LegacyPayload.Decoded {
        try LegacyPayload.decode(Array(text.utf8), limits: self.limits)
    }

    func accepted(_ decoded: LegacyPayload.Decoded) -> [InboundMessage] {
        decoded.items.compactMap { if case .accepted(let m) = $0 { m } else { nil } }
    }

    @Test func singleMessageKeepsEveryField() throws {
        let d = try decode(#"{"date":"2025-01-20","hour":"10:15:00","time_received":"2025-01-20 10:14:50","message":"Hello","number":" +123456789 ","guid":"msg-001","extra":{"x":1}}"#)
        #expect(!d.isBatch)
        #expect(accepted(d) == [InboundMessage(
            guid: "msg-001", number: "+123456789", message: "Hello", date: "2025-01-20", hour: "10:15:00",
            timeReceived: "2025-01-20 10:14:50", provider: "smsmobileapi")])
    }

    @Test func seedDuplicateBodyWithoutNumberIsValid() throws {
        let m = try #require(accepted(try decode(#"{"date": "...", "message": "Test", "guid": "duplicate-test"}"#)).first)
        #expect(m.number == nil)
        #expect(m.date == "...")
        #expect(m.guid == "duplicate-test")
    }

    @Test func batchKeepsValidItemsAndRejectsInvalidOnes() throws {
        let d = try decode(#"{"messages":[{"message":"a","guid":"1"},{"message":7,"guid":"2"},"junk",{"guid":"4"}]}"#)
        #expect(d.isBatch)
        #expect(accepted(d).map(\.guid) == ["1"])
        let errors = d.items.compactMap { if case .rejected(let i, _, let e) = $0 { (i, e.code, e.field) } else { nil } }
        #expect(errors.map(\.0) == [1, 2, 3])
        #expect(errors.map(\.1) == [.invalidType, .invalidPayload, .missingField])
        #expect(errors.map(\.2) == ["message", nil, "message"])
    }

    @Test func derivesAStableKeyWhenGUIDIsMissingOrEmpty() throws {
        let a = try #require(accepted(try decode(#"{"message":"Hi","number":"+1555","time_received":"t1"}"#)).first)
        let b = try #require(accepted(try decode(#"{"message":"Hi","number":"+1555","time_received":"t1","guid":""}"#)).first)
        let c = try #require(accepted(try decode(#"{"message":"Hi","number":"+1555","time_received":"t2"}"#)).first)
        #expect(a.guidDerived && b.guidDerived)
        #expect(a.guid == b.guid)
        #expect(a.guid != c.guid)
        #expect(a.guid.hasPrefix("derived-") && a.guid.count == "derived-".count + 64)
        #expect(a.guid == IdempotencyKey.derive(number: "+1555", date: nil, hour: nil, timeReceived: "t1", message: "Hi"))
    }

    @Test func requestLevelErrors() {
        let cases: [(String, PayloadError.Code, Int)] = [
            ("{", .invalidJSON, 400),
            ("[1,2]", .invalidPayload, 422),
            (#"{"messages":[]}"#, .emptyBatch, 422),
            (#"{"messages":{"a":1}}"#, .invalidType, 422),
            ("{\"messages\":[" + Array(repeating: "{\"message\":\"m\"}", count: 1001).joined(separator: ",") + "]}", .batchTooLarge, 413),
        ]
        for (body, code, status) in cases {
            do {
                _ = try decode(body)
                Issue.record("accepted \(body.prefix(40))")
            } catch {
                #expect(error.code == code)
                #expect(error.httpStatus == status)
            }
        }
    }

    @Test func fieldRules() throws {
        let rules: [(String, PayloadError.Code?, String?)] = [
            (#"{"message":"x","guid":"has space"}"#, .invalidGUID, "guid"),
            ("{\"message\":\"x\",\"guid\":\"" + String(repeating: "g", count: 257) + "\"}", .invalidGUID, "guid"),
            ("{\"message\":\"x\",\"guid\":\"" + String(repeating: "g", count: 256) + "\"}", nil, nil),
            (#"{"message":"x","guid":"é"}"#, .invalidGUID, "guid"),
            ("{\"message\":\"" + String(repeating: "é", count: 1601) + "\"}", .tooLong, "message"),
            ("{\"message\":\"" + String(repeating: "é", count: 1600) + "\"}", nil, nil),
            (#"{"message":"x","number":"+1 (555) 010-9999"}"#, nil, nil),
            (#"{"message":"x","number":"ACME Corp"}"#, nil, nil),
            (#"{"message":"x","number":"1+2"}"#, .invalidNumber, "number"),
            (#"{"message":"x","number":"<script>"}"#, .invalidNumber, "number"),
            (#"{"message":"x","number":"1"}"#, .invalidNumber, "number"),
            (#"{"message":"x","number":"   "}"#, nil, nil),
            (#"{"message":"x","number":["1"]}"#, .invalidType, "number"),
            (#"{"message":"x","date":{"d":1}}"#, .invalidType, "date"),
            (#"{"message":"x","date":20250120,"hour":null}"#, nil, nil),
            (#"{"message":null}"#, .missingField, "message"),
        ]
        for (body, code, field) in rules {
            let item = try #require(try decode(body).items.first)
            switch item {
            case .accepted:
                #expect(code == nil, "\(body.prefix(60)) was accepted")
            case .rejected(_, _, let error):
                #expect(error.code == code, "\(body.prefix(60))")
                #expect(error.field == field)
            }
        }
    }
}
