import RedisClient
import SMSCore

/// One endpoint's events across shards: counts, dead events (list, replay with attempts reset, purge) and the
/// disabled flag a 410 Gone sets.
public struct DeadEvents: Sendable {
    let redis: RedisClient
    let keys: KeySpace
    public let endpoint: String

    public init(redis: RedisClient, keys: KeySpace, endpoint: String) {
        self.redis = redis
        self.keys = keys
        self.endpoint = endpoint
    }

    public struct Counts: Sendable, Hashable {
        public var queued = 0
        public var retrying = 0
        public var dead = 0
        /// Why the endpoint is disabled (410 Gone), nil when it is not.
        public var disabled: String?
        public init() {}
    }

    public func counts() async throws -> Counts {
        var counts = Counts()
        for shard in self.keys.shards {
            let replies = try await self.redis.pipeline([
                RedisCommand("LLEN", RedisArgument(shard.events(self.endpoint))),
                RedisCommand("ZCARD", RedisArgument(shard.eventsRetry(self.endpoint))),
                RedisCommand("LLEN", RedisArgument(shard.eventsDead(self.endpoint))),
            ])
            counts.queued += Int(try replies[0].orThrow().int ?? 0)
            counts.retrying += Int(try replies[1].orThrow().int ?? 0)
            counts.dead += Int(try replies[2].orThrow().int ?? 0)
        }
        counts.disabled = try await self.redis.send("GET", RedisArgument(self.keys.eventsDisabled(self.endpoint))).string
        return counts
    }

    /// Up to `count` dead records (raw JSON: entry, error, failed_at), newest first across shards.
    public func list(count: Int) async throws -> [[UInt8]] {
        try await DeadJobs.newest(redis: self.redis, lists: self.keys.shards.map { $0.eventsDead(self.endpoint) }, count: count)
    }

    /// Queues the dead event with this id again (attempts reset), or all when `id` is nil, and re-enables the
    /// endpoint. Returns how many.
    public func replay(id: String?) async throws -> Int {
        var moved = 0
        for shard in self.keys.shards {
            let items = try await self.redis.send("LRANGE", RedisArgument(shard.eventsDead(self.endpoint)), 0, -1).array ?? []
            for raw in items.compactMap(\.bytes) {
                guard let entry = (try? JSONParser.parse(raw))?["entry"]?.stringValue,
                    var event = QueuedEvent(entry: Array(entry.utf8))
                else { continue }
                if let id, event.id != id { continue }
                event.attempt = 0
                let reply = try await self.redis.evaluate(
                    DeadJobs.move, keys: [RedisArgument(shard.eventsDead(self.endpoint)), RedisArgument(shard.events(self.endpoint))],
                    arguments: [RedisArgument(bytes: raw), RedisArgument(bytes: event.entry)])
                moved += Int(reply.int ?? 0)
            }
        }
        try await self.redis.send("DEL", RedisArgument(self.keys.eventsDisabled(self.endpoint)))
        return moved
    }

    /// Deletes the endpoint's dead events; returns how many there were.
    public func purge() async throws -> Int {
        var n = 0
        for shard in self.keys.shards {
            let replies = try await self.redis.pipeline([
                RedisCommand("LLEN", RedisArgument(shard.eventsDead(self.endpoint))),
                RedisCommand("DEL", RedisArgument(shard.eventsDead(self.endpoint))),
            ])
            n += Int(try replies[0].orThrow().int ?? 0)
        }
        return n
    }
}
