import Foundation
import Glibc
import HummingbirdTesting
import NIOCore
import RedisClient
import SMSCore
import SMSWebhook
import TestSupport
import Testing

/// The outage spool: calls that Redis cannot take are fsynced on disk, answered 2xx, and replayed through the same
/// ingest script when Redis is back (dedup, opt-out and loop guard as if late).
@Suite(.enabled(if: TestRedis.enabled, "needs redis-server: run `make test`"))
struct SpoolTests {
    static func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("smshook-spool-\(UUID().uuidString)").path
    }

    func waitUntil(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(seconds) {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test func callsAreSpooledWhileRedisIsAwayAndReplayedOnceItIsBack() async throws {
        let server = try RedisServer(arguments: ["--appendonly", "yes", "--appendfsync", "always"])
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try Spool(directory: dir, maxBytes: 1 << 20)
        let service = try TestService(redisURL: server.url, prefix: "spool")
        try await service.app(spool: spool).test(.live) { client in
            let (first, _) = try await client.postWebhook(#"{"message":"yes","number":"+15550800001","guid":"sp-1"}"#)
            #expect(first == .ok)
            server.stop()  // SIGKILL; appendfsync always kept sp-1
            let (status, json) = try await client.postWebhook(
                #"{"messages":[{"message":"yes","number":"+15550800002","guid":"sp-2"},{"message":"STOP","number":"+15550800003","guid":"sp-3"},{"guid":"bad"}]}"#)
            #expect(status == .ok)
            #expect(json["spooled"] == .number("2") && json["rejected"] == .number("1"))
            let form = FormEncoding.encode([("MessageSid", "SMsp"), ("From", "+15550800004"), ("To", "+15550100002"), ("Body", "yes")])
            try await client.execute(
                uri: "/webhooks/twilio", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: form)) { #expect($0.status == .ok, "Twilio does not retry a 5xx: the spool answers 200") }
            // a provider retry of a message Redis already has: spooled too, a duplicate when replayed
            #expect(try await client.postWebhook(#"{"message":"yes","number":"+15550800001","guid":"sp-1"}"#).0 == .ok)
            #expect(spool.count == 3)
            try server.start()
            #expect(try await self.waitUntil(10) { spool.count == 0 }, "the spool was not drained")
        }
        let check = service.check
        for key in ["spool:dedup:sp-1", "spool:dedup:sp-2", "spool:dedup:sp-3", "spool:dedup:twilio:SMsp"] {
            #expect(try await check.send("EXISTS", RedisArgument(key)) == .integer(1), "\(key)")
        }
        // sp-1 once (its replay was a duplicate), sp-2, the STOP confirmation, the Twilio yes: 4 replies
        #expect(try await check.send("LLEN", "spool:replies") == .integer(4))
        #expect(try await check.send("SISMEMBER", "spool:optout", "+15550800003") == .integer(1))
        #expect(try await check.send("XLEN", "spool:rejected") == .integer(1), "the refused item is kept too")
        let inbound = try await check.send("XRANGE", "spool:audit", "-", "+").array ?? []
        #expect(inbound.count == 4, "sp-1 is audited once")
        await check.shutdown()
        withExtendedLifetime(server) {}
    }

    @Test func aFullSpoolAnswers503AsWithout() async throws {
        let server = try RedisServer()
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try Spool(directory: dir, maxBytes: 64)
        let service = try TestService(redisURL: server.url, prefix: "spoolfull")
        server.stop()
        try await service.app(spool: spool).test(.live) { client in
            let (status, json) = try await client.postWebhook(#"{"message":"yes","number":"+15550800005","guid":"full-1"}"#)
            #expect(status == .serviceUnavailable)
            #expect(json["error"]?["code"] == .string("unavailable"))
        }
        #expect(spool.count == 0)
        await service.check.shutdown()
        withExtendedLifetime(server) {}
    }

    @Test func aSpoolLeftByAKilledProcessIsReplayedAtStart() async throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let prefix = TestRedis.uniquePrefix("spoolstart")
        let earlier = try Spool(directory: dir, maxBytes: 1 << 20)
        for i in 0..<5 {
            let message = InboundMessage(guid: "left-\(i)", number: "+1555090000\(i)", message: "yes", provider: "smsmobileapi")
            try earlier.append(SpoolRecord.encode(.init(
                decoded: .init(isBatch: false, items: [.accepted(message)]), receivedAt: "2026-01-01T00:00:00.000Z",
                route: "legacy", instance: "killed")))
        }
        FileManager.default.createFile(atPath: dir + "/000-never-renamed.tmp", contents: Data("partial".utf8))
        let spool = try Spool(directory: dir, maxBytes: 1 << 20)
        #expect(spool.count == 5, "the unrenamed temporary file was never acknowledged: dropped")
        let service = try TestService(prefix: prefix)
        try await service.app(spool: spool).test(.live) { _ in
            let drained = try await self.waitUntil(10) { spool.count == 0 }
            #expect(drained)
        }
        for i in 0..<5 {
            let value = try await service.check.send("GET", RedisArgument(service.keys.dedup("left-\(i)"))).bytes ?? []
            #expect(try JSONParser.parse(value)["received_at"] == .string("2026-01-01T00:00:00.000Z"), "the original time is kept")
        }
        await service.check.shutdown()
    }
}

@Suite struct SpoolRecordTests {
    @Test func recordsRoundTrip() throws {
        let message = InboundMessage(
            guid: "g", guidDerived: true, number: "+1 555", message: "héllo\n", date: "d", hour: "h", timeReceived: "t",
            provider: "twilio", channel: Channel(provider: "twilio", name: "b", number: "+15550100002"))
        let error = PayloadError(.invalidGUID, "bad guid", field: "guid")
        let contents = SpoolRecord.Contents(
            decoded: .init(isBatch: true, items: [.accepted(message), .rejected(index: 1, raw: .object([("guid", .number("1"))]), error: error)]),
            receivedAt: "2026-01-01T00:00:00.000Z", route: "legacy", instance: "i")
        let back = try SpoolRecord.decode(SpoolRecord.encode(contents))
        #expect(back.receivedAt == contents.receivedAt && back.route == "legacy" && back.instance == "i" && back.decoded.isBatch)
        guard case .accepted(let m)? = back.decoded.items.first, case .rejected(let index, let raw, let e)? = back.decoded.items.last else {
            Issue.record("items lost")
            return
        }
        #expect(m == message)
        #expect(index == 1 && raw == .object([("guid", .number("1"))]) && e == error)
        #expect(throws: PayloadError.self) { try SpoolRecord.decode(Array("{\"version\":2}".utf8)) }
    }
}
