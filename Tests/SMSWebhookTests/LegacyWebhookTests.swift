import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import RedisClient
import SMSCore
import SMSWebhook
import TestSupport
import Testing

@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct LegacyWebhookTests {
    let service: TestService

    init() throws { self.service = try TestService(prefix: TestRedis.uniquePrefix("hook")) }

    @Test func seedSingleMessage() async throws {
        try await self.service.app.test(.live) { client in
            let (status, body) = try await client.postWebhook(
                #"{"date":"2025-01-20","hour":"10:15:00","time_received":"2025-01-20 10:14:50","message":"Hello","number":"+123456789","guid":"msg-001"}"#)
            #expect(status == .ok)
            #expect(body["status"] == .string("success"))
            #expect(body["message"] == .string("Processed 1 message, skipped 0 duplicates"))
            #expect(body["processed"]?.int == 1)
            #expect(body["skipped"]?.int == 0)
            #expect(body["results"] == .array([.object([("guid", .string("msg-001")), ("outcome", .string("accepted")), ("intent", .string("unknown")), ("reply", .string("no_reply"))])]))
        }
        let redis = self.service.check
        let stored = try await redis.send("GET", RedisArgument(self.service.keys.dedup("msg-001")))
        let value = try JSONParser.parse(try #require(stored.bytes))
        #expect(value["outcome"] == .string("accepted"))
        #expect(value["decision"] == .string("no_reply"))
        #expect(value["instance"] == .string("test"))
        let ttl = try #require(try await redis.send("TTL", RedisArgument(self.service.keys.dedup("msg-001"))).int)
        #expect(ttl > 604_700 && ttl <= 604_800)
        let audit = try await redis.send("XRANGE", RedisArgument(self.service.keys.audit), "-", "+")
        let fields = try #require(audit.array?.first?.array?[1].array)
        #expect(fields[0] == .bulk(Array("event".utf8)))
        #expect(fields[1] == .bulk(Array("inbound".utf8)))
        #expect(fields[2...4] == [.bulk(Array("decision".utf8)), .bulk(Array("no_reply".utf8)), .bulk(Array("data".utf8))])
        let record = try JSONParser.parse(try #require(fields[5].bytes))
        #expect(record["message"] == .string("Hello"))
        #expect(record["decision"] == .string("no_reply"))
        #expect(record["no_reply_reason"] == .string("no_template"))
        await redis.shutdown()
    }

    @Test func seedBatchOfTwoQueuesReplies() async throws {
        try await self.service.app.test(.live) { client in
            let (status, body) = try await client.postWebhook(
                #"{"messages":[{"date":"2025-01-20","hour":"10:15:00","time_received":"2025-01-20 10:14:50","message":"Yes","number":"+123456789","guid":"b-1"},{"date":"2025-01-20","hour":"10:16:00","time_received":"2025-01-20 10:15:50","message":"No","number":"+123456780","guid":"b-2"}]}"#)
            #expect(status == .ok)
            #expect(body["message"] == .string("Processed 2 messages, skipped 0 duplicates"))
            #expect(body["processed"]?.int == 2)
            #expect(body["skipped"]?.int == 0)
        }
        let redis = self.service.check
        let jobs = try await redis.send("LRANGE", RedisArgument(self.service.keys.replies), 0, -1).array ?? []
        let parsed = try jobs.map { try ReplyJob(json: JSONParser.parse($0.bytes ?? [])) }
        #expect(Set(parsed.map(\.inReplyTo)) == ["b-1", "b-2"])
        #expect(Set(parsed.map(\.intent)) == [.affirmative, .negative])
        #expect(parsed.first { $0.inReplyTo == "b-1" }?.to == "+123456789")
        await redis.shutdown()
    }

    @Test func largeBatchQueuesEveryJobInOrder() async throws {
        // more jobs than the script pushes in one LPUSH (1,000): they still arrive all, in batch order
        let service = try TestService(prefix: TestRedis.uniquePrefix("big")) { $0.limits.maxBatch = 5000 }
        let items = (0..<2500).map { #"{"message":"yes","number":"+1555\#(100000 + $0)","guid":"big-\#($0)"}"# }
        try await service.app.test(.live) { client in
            let (status, body) = try await client.postWebhook(#"{"messages":["# + items.joined(separator: ",") + "]}")
            #expect(status == .ok)
            #expect(body["processed"]?.int == 2500)
        }
        let raw = try await service.check.send("LRANGE", RedisArgument(service.keys.replies), 0, -1).array ?? []
        let jobs = try raw.reversed().map { try ReplyJob(json: JSONParser.parse($0.bytes ?? [])) }
        #expect(jobs.map(\.inReplyTo) == (0..<2500).map { "big-\($0)" })
        await service.check.shutdown()
    }

    @Test func seedDuplicateTwice() async throws {
        try await self.service.app.test(.live) { client in
            let seed = #"{"date": "...", "message": "Test", "guid": "duplicate-test"}"#
            let (s1, first) = try await client.postWebhook(seed)
            #expect(s1 == .ok)
            #expect(first["message"] == .string("Processed 1 message, skipped 0 duplicates"))
            #expect(first["processed"]?.int == 1)
            #expect(first["skipped"]?.int == 0)
            let (s2, second) = try await client.postWebhook(seed)
            #expect(s2 == .ok)
            #expect(second["message"] == .string("Processed 0 messages, skipped 1 duplicate"))
            #expect(second["processed"]?.int == 0)
            #expect(second["skipped"]?.int == 1)
        }
        #expect(try await self.service.check.send("LLEN", RedisArgument(self.service.keys.replies)) == .integer(0))
        await self.service.check.shutdown()
    }

    @Test func sameGUIDTwiceInOneBatchCountsOnce() async throws {
        try await self.service.app.test(.live) { client in
            let (status, body) = try await client.postWebhook(
                #"{"messages":[{"message":"yes","number":"+15550001","guid":"same"},{"message":"yes","number":"+15550001","guid":"same"}]}"#)
            #expect(status == .ok)
            #expect(body["message"] == .string("Processed 1 message, skipped 1 duplicate"))
        }
        #expect(try await self.service.check.send("LLEN", RedisArgument(self.service.keys.replies)) == .integer(1))
        await self.service.check.shutdown()
    }

    @Test func partialBatchKeepsValidMessagesAndRecordsRejectedOnes() async throws {
        try await self.service.app.test(.live) { client in
            let (status, body) = try await client.postWebhook(
                #"{"messages":[{"message":"yes","number":"+15550001","guid":"ok-1"},{"message":12,"guid":"bad-1"},{"guid":"bad-2"}]}"#)
            #expect(status == .ok)
            #expect(body["processed"]?.int == 1)
            #expect(body["rejected"]?.int == 2)
            guard case .array(let results)? = body["results"] else { Issue.record("no results"); return }
            #expect(results.map { $0["outcome"] } == [.string("accepted"), .string("rejected"), .string("rejected")])
            #expect(results[1]["error"]?["code"] == .string("invalid_type"))
            #expect(results[2]["error"]?["field"] == .string("message"))
        }
        let rejected = try await self.service.check.send("XRANGE", RedisArgument(self.service.keys.rejected), "-", "+").array ?? []
        #expect(rejected.count == 2)
        let first = try JSONParser.parse(rejected[0].array?[1].array?[1].bytes ?? [])
        #expect(first["raw"] == .object([("message", .number("12")), ("guid", .string("bad-1"))]))
        await self.service.check.shutdown()
    }

    @Test func derivedKeyIsReportedAndDeduplicates() async throws {
        try await self.service.app.test(.live) { client in
            let body = #"{"message":"yes","number":"+15550002","time_received":"2025-01-20 10:00:00"}"#
            let (_, first) = try await client.postWebhook(body)
            let (_, second) = try await client.postWebhook(body)
            guard case .array(let r1)? = first["results"], case .array(let r2)? = second["results"] else {
                Issue.record("no results"); return
            }
            #expect(r1[0]["guid_derived"] == .bool(true))
            #expect(r1[0]["guid"] == r2[0]["guid"])
            #expect(second["skipped"]?.int == 1)
        }
        await self.service.check.shutdown()
    }

    /// The audit stream keeps about SMSHOOK_AUDIT_MAXLEN entries, the newest, whatever the size of the calls.
    @Test func auditStreamIsCappedToItsNewestEntries() async throws {
        let service = try TestService(prefix: TestRedis.uniquePrefix("cap")) { $0.script.auditMaxLength = 100 }
        try await service.app.test(.live) { client in
            for call in 0..<5 {
                let items = (0..<100).map { #"{"message":"yes","number":"+1555100\#(call)\#($0)","guid":"cap-\#(call)-\#($0)"}"# }
                let (status, body) = try await client.postWebhook(#"{"messages":[\#(items.joined(separator: ","))]}"#)
                #expect(status == .ok && body["processed"]?.int == 100)
            }
        }
        // approximate trimming (`MAXLEN ~`) drops whole stream nodes only: between the cap and one node over it
        let length = try #require(try await service.check.send("XLEN", RedisArgument(service.keys.audit)).int)
        #expect(length >= 100 && length < 200, "\(length) entries")
        let newest = try await service.check.send("XREVRANGE", RedisArgument(service.keys.audit), "+", "-", "COUNT", "1")
        let data = try #require(newest.array?.first?.array?[1].array?[5].bytes)
        #expect(try JSONParser.parse(data)["guid"] == .string("cap-4-99"))
        await service.check.shutdown()
    }
}
