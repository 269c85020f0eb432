import Foundation
import Glibc
import Hummingbird
import HummingbirdTesting
import Logging
import RedisClient
import SMSCore
import SMSStore
import SMSSystem
import SMSWebhook
import TestSupport
import Testing

/// Ingest on a 3-primary Redis Cluster with 64 shards: every message's keys in its number's shard.
@Suite(.enabled(if: TestRedis.enabled, "needs redis-server: run `make test`"))
struct ClusterIngestTests {
    @Test func aBatchSpanningShardsIsStoredShardByShardAndRetriesAreCaught() async throws {
        let service = try TestService(prefix: TestRedis.uniquePrefix("cl-ingest"), cluster: true)
        let numbers = (0..<40).map { "+1555020\(String(format: "%04d", $0))" }
        let items = numbers.enumerated().map { #"{"message":"yes","number":"\#($1)","guid":"cl-\#($0)"}"# }
        let batch = #"{"messages":["# + (items + [#"{"message":12,"guid":"cl-bad"}"#]).joined(separator: ",") + "]}"
        let shards = Set(numbers.enumerated().map { service.shard(number: $1, guid: "cl-\($0)").index })
        #expect(shards.count > 20)  // 40 numbers over 64 shards: the batch really spans shards (and primaries)
        try await service.app.test(.live) { client in
            let (status, json) = try await client.postWebhook(batch)
            #expect(status == .ok)
            #expect(json["processed"]?.int == 40)
            #expect(json["rejected"]?.int == 1)
            // the provider's retry of the whole batch: every message a duplicate, whichever shard it is in
            let (again, retried) = try await client.postWebhook(batch)
            #expect(again == .ok)
            #expect(retried["processed"]?.int == 0)
            #expect(retried["skipped"]?.int == 40)
        }
        for (i, number) in numbers.enumerated() {
            let shard = service.shard(number: number, guid: "cl-\(i)")
            #expect(shard.dedup("cl-\(i)").contains("{\(shard.index)}"))
            let value = try await service.check.send("GET", RedisArgument(shard.dedup("cl-\(i)"))).string ?? ""
            #expect(value.contains(#""decision":"queued""#), "cl-\(i): \(value)")
        }
        #expect(try await service.total("LLEN", \.replies) == 40)
        #expect(try await service.total("XLEN", \.audit) == 40)
        #expect(try await service.total("XLEN", \.rejected) == 2)  // kept once per call, with its first shard
        await service.check.shutdown()
    }

    @Test func optOutAndTheLoopGuardLiveInTheNumbersShard() async throws {
        let service = try TestService(prefix: TestRedis.uniquePrefix("cl-optout"), cluster: true) { $0.replies.loopGuard.maxReplies = 2 }
        let number = "+15550209999"
        try await service.app.test(.live) { client in
            for i in 0..<3 {
                let (status, _) = try await client.postWebhook(#"{"message":"yes","number":"\#(number)","guid":"cl-rate-\#(i)"}"#)
                #expect(status == .ok)
            }
            let (status, _) = try await client.postWebhook(#"{"message":"STOP","number":"\#(number)","guid":"cl-stop"}"#)
            #expect(status == .ok)
        }
        let shard = service.shard(number: number, guid: "")
        #expect(try await service.check.send("SISMEMBER", RedisArgument(shard.optOut), RedisArgument(number)) == .integer(1))
        let third = try await service.check.send("GET", RedisArgument(shard.dedup("cl-rate-2"))).string ?? ""
        #expect(third.contains(#""decision":"suppressed_rate""#), "\(third)")
        #expect(try await service.total("LLEN", \.replies) == 3)  // two replies, one opt-out confirmation
        await service.check.shutdown()
    }
}

/// Per-shard atomicity: a batch whose shards are partly on a primary that does not answer (paused, with its replica)
/// answers 503; what reached the live primaries is stored, and the provider's retry (once it answers again) stores
/// the rest, the stored part as duplicates. Nothing is lost, nothing stored twice.
@Suite(.enabled(if: TestRedis.enabled, "needs redis-server: run `make test`"))
struct ClusterPartialBatchTests {
    @Test func aBatchWithAShardOnADeadPrimaryIs503AndItsRetryStoresTheRest() async throws {
        // a paused primary and its paused replica: no failover while the batch is posted; the other shards serve on
        let cluster = try RedisClusterServer(arguments: ["--cluster-require-full-coverage", "no"])
        let prefix = TestRedis.uniquePrefix("cl-partial")
        var redis = try cluster.configuration()
        redis.commandTimeout = .milliseconds(500)
        redis.connectTimeout = .milliseconds(300)
        let replies = try ReplyConfig.load(path: RepoFile.path("config/smshook.yaml")).0
        var configuration = ServeConfiguration(redis: redis, instanceID: "partial", replies: replies)
        configuration.port = 0
        configuration.adminPort = nil
        configuration.keyPrefix = prefix
        configuration.shards = KeySpace.defaultClusterShards
        configuration.auth = .none
        var logger = Logger(label: "test.partial")
        logger.logLevel = .critical
        let check = RedisClient(configuration: redis, logger: logger)
        let keys = KeySpace(prefix: prefix, shards: configuration.shards)
        let numbers = (0..<30).map { "+1555030\(String(format: "%04d", $0))" }
        let batch = #"{"messages":["# + numbers.enumerated().map { #"{"message":"yes","number":"\#($1)","guid":"part-\#($0)"}"# }
            .joined(separator: ",") + "]}"
        // the primary that serves the first message's shard stops answering, and so does its replica
        let victim = try await check.primary(ofKey: keys.shard(subscriber: numbers[0], guid: "").replies)
        let onVictim = try await numbers.asyncFilter { try await check.primary(ofKey: keys.shard(subscriber: $0, guid: "").replies) == victim }
        #expect(!onVictim.isEmpty && onVictim.count < numbers.count)
        let primary = try #require(cluster.nodes.first { "127.0.0.1:\($0.port)" == victim })
        let replica = try #require(cluster.replica(of: primary.port))
        primary.signal(SIGSTOP)
        replica.signal(SIGSTOP)
        let app = WebhookApplication.make(configuration: configuration, redis: RedisClient(configuration: redis, logger: logger), logger: logger)
        try await app.test(.live) { client in
            let (status, json) = try await client.postWebhook(batch)
            #expect(status == .serviceUnavailable, "\(json)")
            primary.signal(SIGCONT)
            replica.signal(SIGCONT)
            // the retry, once the primary answers again: the stored part is a duplicate, the rest is stored now
            var retried: (HTTPResponse.Status, JSONValue) = (.serviceUnavailable, .null)
            let started = ContinuousClock.now
            while retried.0 != .ok && ContinuousClock.now - started < .seconds(30) {
                try await Task.sleep(for: .milliseconds(250))
                retried = try await client.postWebhook(batch)
            }
            #expect(retried.0 == .ok)
            // the live shards' part was stored by the first call: duplicates now. The paused shard's call may have
            // run after all (it waited in the socket while the primary was stopped): then it is a duplicate too,
            // else it is stored now; either way once.
            let processed = retried.1["processed"]?.int ?? -1
            let skipped = retried.1["skipped"]?.int ?? -1
            #expect(processed + skipped == numbers.count, "\(retried.1)")
            #expect(processed == 0 || processed == onVictim.count, "\(retried.1)")
        }
        var stored = 0
        for (i, number) in numbers.enumerated() {
            let value = try await check.send("GET", RedisArgument(keys.shard(subscriber: number, guid: "").dedup("part-\(i)")))
            if value.string != nil { stored += 1 }
        }
        #expect(stored == numbers.count)
        var jobs = 0
        for shard in keys.shards { jobs += Int(try await check.send("LLEN", RedisArgument(shard.replies)).int ?? 0) }
        #expect(jobs == numbers.count)  // one reply job each: none lost, none twice
        await check.shutdown()
    }
}

extension Array {
    func asyncFilter(_ keep: (Element) async throws -> Bool) async rethrows -> [Element] {
        var out: [Element] = []
        for element in self where try await keep(element) { out.append(element) }
        return out
    }
}
