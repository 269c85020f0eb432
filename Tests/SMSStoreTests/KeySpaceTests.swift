import RedisClient
import SMSCore
@testable import SMSStore
import Testing
import TestSupport

@Suite struct KeySpaceTests {
    @Test func oneShardKeepsThePlainNames() {
        let keys = KeySpace(prefix: "smshook")
        #expect(!keys.isSharded)
        let shard = keys.shard(subscriber: "+15550100", guid: "msg-001")
        #expect(shard.dedup("msg-001") == "smshook:dedup:msg-001")
        #expect(shard.replies == "smshook:replies" && shard.audit == "smshook:audit" && shard.optOut == "smshook:optout")
        #expect(shard.processing("w1") == "smshook:replies:processing:w1")
        #expect(shard.sent("j") == "smshook:sent:j" && shard.rate("+1") == "smshook:rate:+1")
        #expect(keys.workers == "smshook:workers" && keys.heartbeat("w1") == "smshook:worker:w1")
        #expect(keys.sendRate("default") == "smshook:ratelimit:default" && keys.reaperLock == "smshook:reaper")
    }

    @Test func severalShardsTagEveryKeyOfAShardAlike() {
        let keys = KeySpace(prefix: "smshook", shards: 64)
        #expect(keys.shards.count == 64)
        let shard = keys.shards[7]
        #expect(shard.dedup("msg-001") == "smshook:{7}:dedup:msg-001")
        let all = [shard.dedup("g"), shard.replies, shard.audit, shard.rejected, shard.optOut, shard.optOut(channel: "c"),
                   shard.processing("w"), shard.retry, shard.dead, shard.sent("j"), shard.rate("+1")]
        #expect(Set(all.map { RedisClusterSlot.of($0) }) == [RedisClusterSlot.of("7")])  // one slot: one script call
        #expect(keys.workers == "smshook:{global}:workers")
        #expect(RedisClusterSlot.of(keys.heartbeat("w1")) == RedisClusterSlot.of(keys.workers))  // one pipeline
    }

    @Test func aMessageGoesToItsNumbersShardStably() {
        #expect(KeySpace.fnv1a("") == 0xcbf2_9ce4_8422_2325)  // FNV-1a 64 test vectors
        #expect(KeySpace.fnv1a("a") == 0xaf63_dc4c_8601_ec8c)
        let keys = KeySpace(prefix: "p", shards: 64)
        #expect(keys.shardIndex(subscriber: "+15550100", guid: "a") == keys.shardIndex(subscriber: "+15550100", guid: "b"))
        #expect(keys.shardIndex(subscriber: nil, guid: "g-1") == Int(KeySpace.fnv1a("g-1") % 64))
        // 10,000 numbers spread evenly: every shard within ±25% of 156
        var counts = [Int](repeating: 0, count: 64)
        for n in 0..<10_000 { counts[keys.shardIndex(subscriber: "+1555\(1_000_000 + n)", guid: "")] += 1 }
        #expect(counts.min()! > 117 && counts.max()! < 195, "\(counts)")
    }

    @Test func theShardCountIsReadAndChecked() throws {
        #expect(try KeySpace.shardCount([:], cluster: false) == 1)
        #expect(try KeySpace.shardCount([:], cluster: true) == 64)
        #expect(try KeySpace.shardCount(["SMSHOOK_SHARDS": "256"], cluster: true) == 256)
        #expect(throws: ConfigurationError.self) { try KeySpace.shardCount(["SMSHOOK_SHARDS": "1"], cluster: true) }
        #expect(throws: ConfigurationError.self) { try KeySpace.shardCount(["SMSHOOK_SHARDS": "5000"], cluster: false) }
        #expect(throws: ConfigurationError.self) { try KeySpace.shardCount(["SMSHOOK_SHARDS": "x"], cluster: false) }
        #expect(KeySpace(prefix: "p", shards: 100_000).shards.count == KeySpace.maxShards)
        #expect(KeySpace(prefix: "p", shards: 64).perShard(1_000_000) == 15_625)
        #expect(KeySpace(prefix: "p", shards: 64).perShard(1_000) == 16 && KeySpace(prefix: "p", shards: 64).perShard(1) == 1)
        #expect(KeySpace(prefix: "p").perShard(1_000_000) == 1_000_000)
    }
}

@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct LayoutTests {
    /// The first process records the shard count; one configured otherwise refuses to start, naming both.
    @Test func aDifferentShardCountIsRefused() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestRedis.url), logger: .init(label: "test"))
        let prefix = TestRedis.uniquePrefix("layout")
        try await KeySpace(prefix: prefix, shards: 16).checkLayout(redis)
        try await KeySpace(prefix: prefix, shards: 16).checkLayout(redis)  // the same count again: fine
        await #expect(throws: KeySpace.LayoutError.self) { try await KeySpace(prefix: prefix, shards: 64).checkLayout(redis) }
        do {
            try await KeySpace(prefix: prefix).checkLayout(redis)
            Issue.record("one shard accepted over a layout of 16")
        } catch let error as KeySpace.LayoutError {
            #expect(error.description.contains("SMSHOOK_SHARDS is 1") && error.description.contains("16 shard(s)"))
        }
        await redis.shutdown()
    }
}
