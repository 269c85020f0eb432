import RedisClient
import SMSCore
@testable import SMSStore
import Testing
import TestSupport

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
        // one opt-out set for the call; no event id without endpoints
        #expect(keys == ["p:audit", "p:replies", "p:rejected", "p:optout", "p:dedup:g1", "p:rate:+1555", "p:dedup:g2", "p:rate:-"])
        // the settings are in the script's text: rejected count, no timestamp without event queues, no placeholders
        #expect(args.count == 3 + 1 + 2 * 5)
        #expect(args[0...3] == ["1", "", "0", "r1"])
        #expect(args[4] == #"{"decision":"queued","outcome":"accepted","instance":"i","received_at":"t","intent":"affirmative","job_id":"j1"}"#)
        #expect(args[6...8] == [job.json, "+1555", "affirmative"])
        #expect(args[11...13] == ["", "", "unknown"])
    }

    /// Opt-out scoped per channel: each message names its channel's set, after its rate key; a reply with `{meta.`
    /// placeholders sets the call's flag.
    @Test func argumentsWithOptOutPerChannel() {
        let message = InboundMessage(guid: "g1", number: "+1555", message: "yes", provider: "smsmobileapi")
        let job = ReplyJob(id: "j1", to: "+1555", body: "Hi {meta.name}", inReplyTo: "g1", intent: .affirmative, provider: "smsmobileapi", createdAt: "t")
        var entry = IngestScript.Entry(message: message, classification: .init(intent: .affirmative, confidence: 1), job: job, instance: "i", receivedAt: "t")
        entry.optOutChannel = "shop"
        var settings = IngestScript.Settings()
        settings.optOutPerChannel = true
        let (keyBytes, argBytes) = IngestScript.arguments(entries: [entry, entry], rejected: [], keys: RedisKeys(prefix: "p"), settings: settings)
        let keys = keyBytes.map { String(decoding: $0, as: UTF8.self) }
        let args = argBytes.map { String(decoding: $0, as: UTF8.self) }
        #expect(keys == ["p:audit", "p:replies", "p:rejected", "p:optout", "p:dedup:g1", "p:rate:+1555", "p:optout:shop", "p:dedup:g1", "p:rate:+1555", "p:optout:shop"])
        #expect(args[0...2] == ["0", "", "1"])
        #expect(args.count == 3 + 2 * 5)
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
        #expect(keys == ["p:audit", "p:replies", "p:rejected", "p:optout", "p:events:app", "p:dedup:g1", "p:rate:+1555", "p:conv:+1555", "p:history:+1555"])
        #expect(args[0...3] == ["0", "t", "0", " message.received "])
        #expect(args[4] == "")
        #expect(args[5].hasPrefix(#"{"decision":"no_reply","guid":"g1""#))
        #expect(args[6...9] == ["", "+1555", "affirmative", "evt_1"])
        #expect(args.count == 3 + 1 + 6)
    }

    /// The settings are constants in the script's text, one script per distinct set (cached), none sent per call.
    @Test func settingsAreWrittenIntoTheScript() {
        var settings = IngestScript.Settings()
        let standard = IngestScript.script(for: settings)
        #expect(standard.source.hasPrefix("#!lua\n"))
        #expect(standard.source.contains("local ttl, auditMax, rejectedMax, rateMax, window = '604800', '1000000', '100000', 3, '3600'\n"))
        #expect(standard.source.contains("local e, p, historyMax, historyTTL = 0, 2, 50, '2592000'\n"))
        #expect(standard.source.contains("local perChannel, conversations = false, false\n"))
        #expect(IngestScript.script(for: settings) == standard)
        settings.maxRepliesPerWindow = 5
        settings.optOutPerChannel = true
        let changed = IngestScript.script(for: settings)
        #expect(changed.sha1 != standard.sha1)
        #expect(changed.source.contains(", 5, '3600'\n"))
        #expect(changed.source.contains("local e, p, historyMax, historyTTL = 0, 3, 50, '2592000'\n"))
        #expect(changed.source.contains("local perChannel, conversations = true, false\n"))
        // endpoints count, their names and secrets stay out of the text
        settings.eventEndpoints = [EventEndpoint(name: "app", url: "https://a.example/e", secrets: ["S3CRET"], types: [.messageReceived])]
        let withEvents = IngestScript.script(for: settings).source
        #expect(withEvents.contains("local e, p, historyMax, historyTTL = 1, 3,"))
        #expect(!withEvents.contains("S3CRET") && !withEvents.contains("a.example"))
    }

    @Test func replyJobRoundTrips() throws {
        let job = ReplyJob(id: "j", to: "+1", body: "b \"q\"", inReplyTo: "g", intent: .negative, provider: "p", createdAt: "t", attempt: 3)
        #expect(try ReplyJob(json: JSONParser.parse(Array(job.json.utf8))) == job)
    }
}

@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct IngestFloorTests {
    /// `smshook-bench floor` gives the cut-down scripts the ingest script's own arguments: they must read the layout
    /// as the script does, storing the same dedup values, audit entries and jobs for messages that get a reply.
    @Test func floorScriptsReadTheIngestLayout() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestRedis.url), logger: .init(label: "test"))
        for (name, script) in [("script", IngestScript.script(for: .init())), ("commands", RedisScript(IngestScript.Floor.commandsOnly(.init())))] {
            let keys = RedisKeys(prefix: TestRedis.uniquePrefix("floor-\(name)"))
            let entries = (1...3).map { n in
                let message = InboundMessage(guid: "g\(n)", number: "+1555000\(n)", message: "yes", provider: "smsmobileapi")
                let job = ReplyJob(id: "j\(n)", to: "+1555000\(n)", body: "ok", inReplyTo: "g\(n)", intent: .affirmative, provider: "smsmobileapi", createdAt: "t")
                return IngestScript.Entry(message: message, classification: .init(intent: .affirmative, confidence: 1), job: job, instance: "i", receivedAt: "t")
            }
            let (k, a) = IngestScript.arguments(entries: entries, rejected: [], keys: keys, settings: .init())
            let reply = try await redis.evaluate(script, keys: k.map { RedisArgument(bytes: $0) }, arguments: a.map { RedisArgument(bytes: $0) })
            #expect(reply.array?.map(\.string) == ["queued", "queued", "queued"], "\(name)")
            for entry in entries {
                #expect(try await redis.send("GET", RedisArgument(keys.dedup(entry.message.guid))).bytes == entry.dedupValue, "\(name)")
                #expect(try await redis.send("GET", RedisArgument(keys.rate(entry.message.number ?? ""))).int == 1, "\(name)")
            }
            #expect(try await redis.send("XLEN", RedisArgument(keys.audit)).int == 3, "\(name)")
            #expect(try await redis.send("LLEN", RedisArgument(keys.replies)).int == 3, "\(name)")
            let none = try await redis.evaluate(RedisScript(IngestScript.Floor.argumentsOnly), keys: k.map { RedisArgument(bytes: $0) }, arguments: a.map { RedisArgument(bytes: $0) })
            #expect(none.array?.count == 3)
        }
        await redis.shutdown()
    }
}
