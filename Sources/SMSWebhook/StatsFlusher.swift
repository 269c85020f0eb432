import RedisClient
import SMSCore
import SMSStore
import SMSSystem
import ServiceLifecycle

/// Every 5 s: this instance's per-minute counts into Redis (`MinuteStats`) and its reply-rules hash into the
/// instances registry, for the console. A last flush on shutdown.
struct StatsFlusher: Service {
    let stats: MinuteStats
    let redis: RedisClient
    let keys: KeySpace
    let instance: String
    let rules: ReplyRules

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) }
            await self.flush()
        }
    }

    func flush() async {
        await self.stats.flush(redis: self.redis, keys: self.keys)
        let value = JSONValue.object([("sha256", .string(self.rules.current.sha256)), ("at", .string(Timestamp.now()))]).json
        _ = try? await self.redis.send("HSET", RedisArgument(self.keys.instances), RedisArgument(self.instance), RedisArgument(value))
    }
}
