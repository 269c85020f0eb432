import RedisClient
import SMSCore

/// Replays dead jobs: each record's job, attempts reset, back on the queue, atomically per record.
public struct DeadJobs: Sendable {
    let redis: RedisClient
    let keys: RedisKeys

    public init(redis: RedisClient, keys: RedisKeys) {
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

    /// Requeues the dead job with this id, or all when `id` is nil. Returns how many.
    public func replay(id: String?) async throws -> Int {
        let items = try await self.redis.send("LRANGE", RedisArgument(self.keys.dead), 0, -1).array ?? []
        var moved = 0
        for raw in items.compactMap(\.bytes) {
            guard let record = try? JSONParser.parse(raw), let jobValue = record["job"],
                var job = try? ReplyJob(json: jobValue)
            else { continue }
            if let id, job.id != id { continue }
            job.attempt = 0
            job.recovered = 0
            let reply = try await self.redis.evaluate(
                Self.move, keys: [RedisArgument(self.keys.dead), RedisArgument(self.keys.replies)],
                arguments: [RedisArgument(bytes: raw), RedisArgument(job.json)])
            moved += Int(reply.int ?? 0)
        }
        return moved
    }
}
