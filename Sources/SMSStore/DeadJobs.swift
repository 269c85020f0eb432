import RedisClient
import SMSCore

/// The dead lists of every shard: list them newest first, replay jobs (attempts reset, back on their shard's queue,
/// atomically per record), purge.
public struct DeadJobs: Sendable {
    let redis: RedisClient
    let keys: KeySpace

    public init(redis: RedisClient, keys: KeySpace) {
        self.redis = redis
        self.keys = keys
    }

    /// KEYS: dead, queue. ARGV: the record, the job to queue. Moves only if the record is still there.
    static let move = RedisScript("""
        #!lua
        if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
          redis.call('RPUSH', KEYS[2], ARGV[2])
          return 1
        end
        return 0
        """)

    /// Up to `count` records (raw JSON), newest first across shards (by `failed_at`).
    public func list(count: Int) async throws -> [[UInt8]] {
        try await Self.newest(redis: self.redis, lists: self.keys.shards.map(\.dead), count: count)
    }

    /// Up to `count` dead records of `lists` (one per shard, each newest first), newest first by `failed_at`.
    static func newest(redis: RedisClient, lists: [String], count: Int) async throws -> [[UInt8]] {
        var all: [(at: String, raw: [UInt8])] = []
        for list in lists {
            let items = try await redis.send("LRANGE", RedisArgument(list), 0, RedisArgument(max(count, 1) - 1)).array ?? []
            for raw in items.compactMap(\.bytes) {
                all.append(((try? JSONParser.parse(raw))?["failed_at"]?.stringValue ?? "", raw))
            }
        }
        return all.sorted { $0.at > $1.at }.prefix(max(count, 0)).map(\.raw)
    }

    /// Requeues the dead job with this id, or all when `id` is nil. Returns how many.
    public func replay(id: String?) async throws -> Int {
        var moved = 0
        for shard in self.keys.shards {
            let items = try await self.redis.send("LRANGE", RedisArgument(shard.dead), 0, -1).array ?? []
            for raw in items.compactMap(\.bytes) {
                guard let record = try? JSONParser.parse(raw), let jobValue = record["job"],
                    var job = try? ReplyJob(json: jobValue)
                else { continue }
                if let id, job.id != id { continue }
                job.attempt = 0
                job.recovered = 0
                let reply = try await self.redis.evaluate(
                    Self.move, keys: [RedisArgument(shard.dead), RedisArgument(shard.replies)],
                    arguments: [RedisArgument(bytes: raw), RedisArgument(job.json)])
                moved += Int(reply.int ?? 0)
            }
        }
        return moved
    }

    /// Deletes the dead job with this id (from whichever shard holds it); returns how many records went.
    public func remove(id: String) async throws -> Int {
        var removed = 0
        for shard in self.keys.shards {
            let items = try await self.redis.send("LRANGE", RedisArgument(shard.dead), 0, -1).array ?? []
            for raw in items.compactMap(\.bytes) {
                guard let record = try? JSONParser.parse(raw), record["job"]?["id"]?.stringValue == id else { continue }
                removed += Int(try await self.redis.send("LREM", RedisArgument(shard.dead), 1, RedisArgument(bytes: raw)).int ?? 0)
            }
        }
        return removed
    }

    /// Deletes every dead job; returns how many there were.
    public func purge() async throws -> Int {
        var n = 0
        for shard in self.keys.shards {
            let replies = try await self.redis.pipeline([
                RedisCommand("LLEN", RedisArgument(shard.dead)), RedisCommand("DEL", RedisArgument(shard.dead)),
            ])
            n += Int(try replies[0].orThrow().int ?? 0)
        }
        return n
    }
}
