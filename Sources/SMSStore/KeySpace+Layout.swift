import RedisClient
import SMSCore

extension KeySpace {
    /// Shards in a Redis Cluster unless `SMSHOOK_SHARDS` says otherwise: spreads evenly over 2, 3 or 4 primaries
    /// (see docs/ARCHITECTURE.md for the measured spread) while a worker's idle polling stays cheap.
    public static let defaultClusterShards = 64

    /// `SMSHOOK_SHARDS`: 1 (plain key names) unless Redis is a cluster.
    public static func shardCount(_ env: [String: String], cluster: Bool) throws -> Int {
        let n = try EnvironmentReader(env).int(
            "SMSHOOK_SHARDS", default: cluster ? Self.defaultClusterShards : 1, range: 1...Self.maxShards)
        if cluster && n < 2 {  // one shard has plain names: a message's keys would hash to different slots
            throw ConfigurationError(variable: "SMSHOOK_SHARDS", message: "a Redis Cluster needs at least 2 shards, got \(n)")
        }
        return n
    }

    public enum LayoutError: Error, CustomStringConvertible {
        case mismatch(configured: Int, recorded: String, key: String)

        public var description: String {
            switch self {
            case .mismatch(let configured, let recorded, let key):
                "SMSHOOK_SHARDS is \(configured) but this Redis holds data of \(recorded) shard(s) (key \(key)): every serve "
                    + "and worker must use the same count. Use \(recorded); to change it, drain the queues and delete the key."
            }
        }
    }

    /// Records the shard count on first use and refuses another one later: instances that disagree would look for a
    /// subscriber's keys in different shards (missing duplicates, queues nobody drains).
    public func checkLayout(_ redis: RedisClient) async throws {
        let n = RedisArgument(self.shards.count)
        let reply = try await redis.pipeline([
            RedisCommand("SET", RedisArgument(self.layout), n, "NX"), RedisCommand("GET", RedisArgument(self.layout)),
        ])
        let recorded = try reply[1].orThrow().string ?? ""
        guard recorded == String(self.shards.count) else {
            throw LayoutError.mismatch(configured: self.shards.count, recorded: recorded, key: self.layout)
        }
    }
}
