import HummingbirdTesting
import RedisClient
import SMSCore
import TestSupport
import Testing

/// Opt-out compliance and the loop guard, through the real webhook and Redis.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct ReplyDecisionTests {
    let service: TestService
    init() throws { self.service = try TestService(prefix: TestRedis.uniquePrefix("reply")) }

    func post(_ client: some TestClientProtocol, _ text: String, from number: String, guid: String) async throws -> String? {
        let body = JSONValue.object([("message", .string(text)), ("number", .string(number)), ("guid", .string(guid))]).json
        let (status, json) = try await client.postWebhook(body)
        #expect(status == .ok)
        if case .array(let results)? = json["results"] { return results.first?["reply"]?.stringValue }
        return nil
    }

    /// Posts each text in turn from `number` (guids guid0, guid1, ...) and returns the reply decisions.
    func conversation(_ number: String, _ texts: [String], guid: String) async throws -> [String?] {
        try await self.service.app.test(.live) { client in
            var out: [String?] = []
            for (i, text) in texts.enumerated() {
                out.append(try await self.post(client, text, from: number, guid: "\(guid)\(i)"))
            }
            return out
        }
    }

    func queuedJobs() async throws -> [ReplyJob] {
        let raw = try await self.service.check.send("LRANGE", RedisArgument(self.service.keys.replies), 0, -1).array ?? []
        return try raw.reversed().map { try ReplyJob(json: JSONParser.parse($0.bytes ?? [])) }
    }

    @Test func optOutSilencesUntilStartAndConfirmsOnce() async throws {
        let number = "+15557770001"
        let replies = try await self.conversation(number, ["STOP", "stop", "no", "HELP", "START", "no"], guid: "o")
        // one confirmation of the opt-out, silence until START, then replies again
        #expect(replies == ["queued", "suppressed_optout", "suppressed_optout", "suppressed_optout", "queued", "queued"])
        let jobs = try await queuedJobs()
        #expect(jobs.map(\.inReplyTo) == ["o0", "o4", "o5"])
        #expect(jobs.map(\.intent) == [.optOut, .optIn, .negative])
        #expect(try await self.service.check.send("SISMEMBER", RedisArgument(self.service.keys.optOut), RedisArgument(number)) == .integer(0))
        let audit = try await self.service.check.send("XRANGE", RedisArgument(self.service.keys.audit), "-", "+").array ?? []
        let decisions = audit.compactMap { $0.array?[1].array?[3].string }
        #expect(decisions == ["queued", "suppressed_optout", "suppressed_optout", "suppressed_optout", "queued", "queued"])
        // the JSON records carry the decision Redis made, not the one they were written with (queued)
        let records = try audit.map { try JSONParser.parse($0.array?[1].array?[5].bytes ?? []) }
        #expect(records.map { $0["decision"]?.stringValue } == decisions)
        #expect(records.map { $0["guid"]?.stringValue } == ["o0", "o1", "o2", "o3", "o4", "o5"])
        for (i, decision) in decisions.enumerated() {
            let value = try await self.service.check.send("GET", RedisArgument(self.service.keys.dedup("o\(i)")))
            let json = try JSONParser.parse(value.bytes ?? [])
            #expect(json["decision"]?.stringValue == decision)
            #expect(json["outcome"]?.stringValue == "accepted")
            let ttl = try await self.service.check.send("TTL", RedisArgument(self.service.keys.dedup("o\(i)"))).int ?? 0
            #expect(ttl > 600_000)
        }
        await self.service.check.shutdown()
    }

    @Test func yesFromAnOptedOutNumberOptsItBackIn() async throws {
        let number = "+15557770002"
        #expect(try await self.conversation(number, ["UNSUBSCRIBE"], guid: "y") == ["queued"])
        #expect(try await self.service.check.send("SISMEMBER", RedisArgument(self.service.keys.optOut), RedisArgument(number)) == .integer(1))
        #expect(try await self.conversation(number, ["YES"], guid: "z") == ["queued"])
        #expect(try await self.service.check.send("SISMEMBER", RedisArgument(self.service.keys.optOut), RedisArgument(number)) == .integer(0))
        #expect(try await queuedJobs().map(\.intent) == [.optOut, .affirmative])
        #expect(try await queuedJobs().map(\.inReplyTo) == ["y0", "z0"])
        await self.service.check.shutdown()
    }

    @Test func tenMessagesInAnHourGetAtMostThreeReplies() async throws {
        let number = "+15557770003"
        let decisions = try await self.conversation(number, (0..<10).map { $0 % 2 == 0 ? "yes" : "no" }, guid: "r")
        #expect(decisions.filter { $0 == "queued" }.count == 3)
        #expect(decisions.filter { $0 == "suppressed_rate" }.count == 7)
        #expect(try await queuedJobs().count == 3)
        let ttl = try #require(try await self.service.check.send("TTL", RedisArgument(self.service.keys.rate(number))).int)
        #expect(ttl > 3500 && ttl <= 3600)
        await self.service.check.shutdown()
    }

    @Test func senderIdsAndMissingNumbersGetNoReply() async throws {
        #expect(try await self.conversation("ACME", ["yes"], guid: "s") == ["no_reply"])
        let json = try await self.service.app.test(.live) { client in
            try await client.postWebhook(#"{"message":"yes","guid":"s2"}"#).1
        }
        guard case .array(let r)? = json["results"] else { Issue.record("no results"); return }
        #expect(r.first?["reply"] == .string("no_reply"))
        #expect(try await queuedJobs().isEmpty)
        await self.service.check.shutdown()
    }

    @Test func aStopFromOneSpellingSilencesEverySpellingOfTheNumber() async throws {
        // "+1 (555) 010-0000" and "+15550100000" are one subscriber: STOP from one, no reply to the other
        #expect(try await self.conversation("+1 (555) 010-0000", ["STOP"], guid: "sp") == ["queued"])
        #expect(try await self.service.check.send("SISMEMBER", RedisArgument(self.service.keys.optOut), "+15550100000") == .integer(1))
        #expect(try await self.conversation("+15550100000", ["no"], guid: "sq") == ["suppressed_optout"])
        #expect(try await self.conversation("+1 555.010.0000", ["help"], guid: "sr") == ["suppressed_optout"])
        let jobs = try await queuedJobs()
        #expect(jobs.map(\.to) == ["+15550100000"], "the one confirmation goes to the E.164 number")
        // the audit record keeps the number as received, with the subscriber key beside it
        let audit = try await self.service.check.send("XRANGE", RedisArgument(self.service.keys.audit), "-", "+").array ?? []
        let first = try #require(audit.first?.array?[1].array?.last?.bytes)
        let record = try JSONParser.parse(first)
        #expect(record["number"] == .string("+1 (555) 010-0000"))
        #expect(record["subscriber"] == .string("+15550100000"))
        await self.service.check.shutdown()
    }
}
