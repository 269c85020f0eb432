import SMSCore
@testable import SMSStore
import Testing

@Suite struct IngestScriptTests {
    @Test func argumentsLineUpWithTheScript() {
        let message = InboundMessage(guid: "g1", number: "+1555", message: "yes", provider: "smsmobileapi")
        let job = ReplyJob(id: "j1", to: "+1555", body: "ok", inReplyTo: "g1", intent: .affirmative, provider: "smsmobileapi", createdAt: "t")
        let entries = [
            IngestScript.Entry(message: message, classification: .init(intent: .affirmative, confidence: 1), job: job, instance: "i", receivedAt: "t"),
            IngestScript.Entry(message: InboundMessage(guid: "g2", number: nil, message: "x", provider: "p"), classification: .init(intent: .unknown, confidence: 0), job: nil, instance: "i", receivedAt: "t"),
        ]
        let (keyBytes, argBytes) = IngestScript.arguments(entries: entries, rejected: ["r1"], keys: RedisKeys(prefix: "p"), settings: .init())
        let keys = keyBytes.map { String(decoding: $0, as: UTF8.self) }
        let args = argBytes.map { String(decoding: $0, as: UTF8.self) }
        #expect(keys == ["p:audit", "p:replies", "p:rejected", "p:dedup:g1", "p:rate:+1555", "p:optout", "p:dedup:g2", "p:rate:-", "p:optout"])
        #expect(args.count == 11 + 1 + 2 * 6)
        #expect(args[0...11] == ["604800", "1000000", "100000", "3", "3600", "1", "0", "3", "t", "50", "2592000", "r1"])
        #expect(args[12] == #"{"decision":"queued","outcome":"accepted","instance":"i","received_at":"t","intent":"affirmative","job_id":"j1"}"#)
        #expect(args[14...17] == [job.json, "+1555", "affirmative", ""])
        #expect(args[20...23] == ["", "", "unknown", ""])
    }

    /// With the API on and one endpoint: the endpoint's queue and types, 5 keys per message, the dedup value left to
    /// the script (the audit record), the event id last.
    @Test func argumentsWithConversationsAndEvents() {
        let message = InboundMessage(guid: "g1", number: "+1555", message: "yes", provider: "smsmobileapi")
        var entry = IngestScript.Entry(message: message, classification: .init(intent: .affirmative, confidence: 1), job: nil, instance: "i", receivedAt: "t")
        entry.eventID = "evt_1"
        var settings = IngestScript.Settings()
        settings.conversations = true
        settings.eventEndpoints = [EventEndpoint(name: "app", url: "https://a.example/e", secrets: ["S"], types: [.messageReceived])]
        let (keyBytes, argBytes) = IngestScript.arguments(entries: [entry], rejected: [], keys: RedisKeys(prefix: "p"), settings: settings)
        let keys = keyBytes.map { String(decoding: $0, as: UTF8.self) }
        let args = argBytes.map { String(decoding: $0, as: UTF8.self) }
        #expect(keys == ["p:audit", "p:replies", "p:rejected", "p:events:app", "p:dedup:g1", "p:rate:+1555", "p:optout", "p:conv:+1555", "p:history:+1555"])
        #expect(args[0...11] == ["604800", "1000000", "100000", "3", "3600", "0", "1", "5", "t", "50", "2592000", " message.received "])
        #expect(args[12] == "")
        #expect(args[13].hasPrefix(#"{"decision":"no_reply","guid":"g1""#))
        #expect(args[14...17] == ["", "+1555", "affirmative", "evt_1"])
    }

    @Test func replyJobRoundTrips() throws {
        let job = ReplyJob(id: "j", to: "+1", body: "b \"q\"", inReplyTo: "g", intent: .negative, provider: "p", createdAt: "t", attempt: 3)
        #expect(try ReplyJob(json: JSONParser.parse(Array(job.json.utf8))) == job)
    }
}
