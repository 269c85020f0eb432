import RedisClient
import SMSCore

extension AuditEntry {
    /// The newest `count` entries of several streams (one per shard), newest first by stream id.
    public static func newest(redis: RedisClient, streams: [String], count: Int) async throws -> [AuditEntry] {
        var all: [AuditEntry] = []
        for stream in streams {
            all += Self.entries(try await redis.send("XREVRANGE", RedisArgument(stream), "+", "-", "COUNT", RedisArgument(max(count, 1))))
        }
        if streams.count == 1 { return all }
        return Array(all.sorted { ($0.milliseconds, $0.sequence) > ($1.milliseconds, $1.sequence) }.prefix(count))
    }

    /// The entries of an `XRANGE`/`XREVRANGE` reply.
    public static func entries(_ reply: RedisReply) -> [AuditEntry] {
        (reply.array ?? []).compactMap { item in
            guard let pair = item.array, pair.count == 2, let id = pair[0].string, let raw = pair[1].array else { return nil }
            var fields: [(String, String)] = []
            for i in stride(from: 0, to: raw.count - 1, by: 2) { fields.append((raw[i].string ?? "", raw[i + 1].string ?? "")) }
            return AuditEntry(id: id, fields: fields)
        }
    }
}
