import Foundation
import SMSCore
import Testing

@Suite struct SendRequestTests {
    func parse(_ json: String, header: String? = nil) throws(PayloadError) -> SendRequest {
        let value = (try? JSONParser.parse(Array(json.utf8))) ?? .null
        return try SendRequest(json: value, idempotencyHeader: header, defaultCountryCode: "1")
    }

    func code(_ json: String) -> String? {
        do { _ = try self.parse(json); return nil } catch { return error.code.rawValue + ":" + (error.field ?? "") }
    }

    @Test func validRequestIsNormalised() throws {
        let r = try self.parse(#"{"to":"(555) 010-0123","body":"Reply YES","metadata":{"shift":"9am"},"reply_window_seconds":3600,"idempotency_key":"k"}"#)
        #expect(r.to == "+15550100123")
        #expect(r.metadata == #"{"shift":"9am"}"#)
        #expect(r.replyWindowSeconds == 3600)
        #expect(r.idempotencyKey == "k")
        let defaults = try self.parse(#"{"to":"+4915112345678","body":"x"}"#, header: "h")
        #expect(defaults.metadata == "{}" && defaults.replyWindowSeconds == 7 * 86400 && defaults.idempotencyKey == "h")
    }

    @Test func badFieldsAreNamed() {
        #expect(self.code(#"{"body":"x"}"#) == "missing_field:to")
        #expect(self.code(#"{"to":5,"body":"x"}"#) == "invalid_type:to")
        #expect(self.code(#"{"to":"ACME","body":"x"}"#) == "invalid_number:to")
        #expect(self.code(#"{"to":"+1234","body":"x"}"#) == "invalid_number:to")
        #expect(self.code(#"{"to":"+15550100123"}"#) == "missing_field:body")
        #expect(self.code(#"{"to":"+15550100123","body":"   "}"#) == "invalid_payload:body")
        #expect(self.code(#"{"to":"+15550100123","body":"\#(String(repeating: "a", count: 1601))"}"#) == "too_long:body")
        #expect(self.code(#"{"to":"+15550100123","body":"x","metadata":[1]}"#) == "invalid_type:metadata")
        #expect(self.code(#"{"to":"+15550100123","body":"x","metadata":{"a":"\#(String(repeating: "b", count: 4100))"}}"#) == "too_long:metadata")
        #expect(self.code(#"{"to":"+15550100123","body":"x","reply_window_seconds":10}"#) == "invalid_payload:reply_window_seconds")
        #expect(self.code(#"{"to":"+15550100123","body":"x","reply_window_seconds":1e300}"#) == "invalid_payload:reply_window_seconds")
        #expect(self.code(#"{"to":"+15550100123","body":"x","idempotency_key":"a b"}"#) == "invalid_payload:idempotency_key")
        #expect(self.code(#"{"to":"+15550100123","body":"x","idempotency_key":7}"#) == "invalid_type:idempotency_key")
        #expect(self.code(#"[1]"#) == "invalid_payload:")
    }

    @Test func fingerprintDiffersWithTheRequest() throws {
        let a = try self.parse(#"{"to":"+15550100123","body":"x"}"#)
        let b = try self.parse(#"{"to":"+15550100123","body":"y"}"#)
        #expect(a.fingerprint == (try self.parse(#"{"to":"+1 555 010 0123","body":"x"}"#)).fingerprint)
        #expect(a.fingerprint != b.fingerprint)
    }
}

@Suite struct EventsConfigTests {
    func config(_ events: String) throws -> ReplyConfig {
        let base = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/smshook.yaml"), encoding: .utf8)
        return try ReplyConfig.parse(base + "\n" + events)
    }

    @Test func endpointsAreRead() throws {
        let c = try self.config("""
            events:
              endpoints:
                - {name: app, url: "https://app.example/hooks", secrets: [APP_SECRET, APP_SECRET_OLD], types: [message.received]}
                - {name: all, url: "http://127.0.0.1:9/e", secrets: [ALL_SECRET]}
              retry_schedule: [1, 2]
            """)
        let events = try #require(c.events)
        #expect(events.endpoints.count == 2 && events.schedule == [1, 2])
        #expect(events.endpoints(for: .messageReceived).map(\.name) == ["app", "all"])
        #expect(events.endpoints(for: .replySent).map(\.name) == ["all"])
        #expect(events.endpoints[0].typeList == " message.received ")
        #expect(EventsConfig(endpoints: []).schedule == [5, 300, 1800, 7200, 18000, 36000, 36000])
    }

    @Test func mistakesAreNamed() {
        let cases: [(String, String)] = [
            ("{name: App, url: \"https://a/\", secrets: [S]}", "name"),
            ("{name: a, url: \"ftp://a/\", secrets: [S]}", "url"),
            ("{name: a, url: \"https://a/\", secrets: [whsec_abc]}", "secrets"),
            ("{name: a, url: \"https://a/\", secrets: []}", "secrets"),
            ("{name: a, url: \"https://a/\", secrets: [S], types: [message.exploded]}", "types"),
        ]
        for (endpoint, field) in cases {
            #expect(throws: ReplyConfigError.self, "\(endpoint)") {
                do { _ = try self.config("events:\n  endpoints:\n    - \(endpoint)\n") } catch let error as ReplyConfigError {
                    #expect(error.message.contains(field), "\(error.message)")
                    throw error
                }
            }
        }
        #expect(throws: ReplyConfigError.self) {
            _ = try self.config("events:\n  endpoints:\n    - {name: a, url: \"https://a/\", secrets: [S]}\n    - {name: a, url: \"https://b/\", secrets: [S]}\n")
        }
        #expect(throws: ReplyConfigError.self) {
            _ = try self.config("events:\n  endpoints: []\n  retry_schedule: [-1]\n")
        }
    }

    @Test func queuedEventRoundTrips() {
        let body = QueuedEvent.body(type: .messageReceived, timestamp: "t") { $0.beginObject(); $0.field("a", "b c"); $0.endObject() }
        #expect(String(decoding: body, as: UTF8.self) == #"{"type":"message.received","timestamp":"t","data":{"a":"b c"}}"#)
        let event = QueuedEvent(id: "evt_1", attempt: 3, body: body)
        #expect(QueuedEvent(entry: event.entry) == event)
        #expect(QueuedEvent(entry: event.entry)?.type == "message.received")
        for bad in ["", "evt_1", "evt_1 x {}", " 0 {}", "evt_1 -1 {}", "evt_1 99999999999999999999 {}"] {
            #expect(QueuedEvent(entry: Array(bad.utf8)) == nil, "\(bad)")
        }
    }
}

@Suite struct LanguageReplyTests {
    static func config() throws -> ReplyConfig {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/smshook.yaml")
        var text = try String(contentsOf: path, encoding: .utf8)
        text = text.replacingOccurrences(
            of: #"  affirmative: "Thanks! We got your YES.""#,
            with: "  affirmative:\n    en: \"Thanks {meta.first_name}, YES from {number} ({language})\"\n    es: \"Gracias, SI\"")
        return try ReplyConfig.parse(text)
    }

    @Test func replyIsInTheLanguageThatMatched() throws {
        let config = try Self.config()
        #expect(config.defaultLanguage == "en")
        let classifier = Classifier(config: config.classifier)
        let policy = ReplyPolicy(config: config)
        let message = InboundMessage(guid: "g", number: "+15550100123", message: "", provider: "p")
        func reply(_ text: String) -> (String?, String?) {
            let c = classifier.classify(text)
            guard case .reply(let body) = policy.decide(message, classification: c) else { return (c.language, nil) }
            return (c.language, body)
        }
        #expect(reply("si claro") == ("es", "Gracias, SI"))
        #expect(reply("yes") == ("en", "Thanks {meta.first_name}, YES from +15550100123 (en)"))
        // French has no text of its own: the default language's ({language} is still the message's)
        #expect(reply("oui") == ("fr", "Thanks {meta.first_name}, YES from +15550100123 (fr)"))
        #expect(reply("ja klar").0 == "de")
        #expect(classifier.classify("STOP").language == nil)
    }

    @Test func unknownLanguagesAreRefused() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/smshook.yaml")
        let text = try String(contentsOf: path, encoding: .utf8)
        #expect(throws: ReplyConfigError.self) {
            _ = try ReplyConfig.parse(text.replacingOccurrences(of: #"  negative: "Thanks, we got your NO.""#, with: "  negative: {xx: \"?\"}"))
        }
        #expect(throws: ReplyConfigError.self) {
            _ = try ReplyConfig.parse(text.replacingOccurrences(of: "default_language: en", with: "default_language: xx"))
        }
    }
}
