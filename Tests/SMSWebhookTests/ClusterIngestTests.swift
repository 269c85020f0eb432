import Foundation
import HummingbirdTesting
import RedisClient
import SMSCore
import SMSStore
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
