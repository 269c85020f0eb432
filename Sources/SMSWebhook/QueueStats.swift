import Foundation
import Metrics
import RedisClient
import SMSCore
import SMSSystem
import SMSStore

/// A cheap snapshot of the queues, one pipelined round trip per shard plus two: for `smshook inspect` and the gauges.
public struct QueueStats: Sendable {
    public struct WorkerState: Sendable {
        public let id: String
        public let processing: Int
        /// Seconds since the last heartbeat; nil when it expired (the worker is presumed dead).
        public let heartbeatAge: Double?
    }

    public var queued = 0
    public var retryDueNow = 0
    public var retryLater = 0
    public var dead = 0
    public var auditLength = 0
    public var rejectedLength = 0
    public var optOuts = 0
    /// Seconds since the oldest queued job was created (the list's tail); 0 when the queue is empty.
    public var oldestJobAge: Double = 0
    public var workers: [WorkerState] = []

    public var processing: Int { self.workers.reduce(0) { $0 + $1.processing } }

    /// Reads every shard (concurrently; one pipelined round trip each) and sums them.
    public static func read(redis: RedisClient, keys: KeySpace) async throws -> QueueStats {
        let ids = try await redis.send("SMEMBERS", RedisArgument(keys.workers)).array?.compactMap(\.string).sorted() ?? []
        let now = String(Int64(Date().timeIntervalSince1970 * 1000))
        let parts = try await withThrowingTaskGroup(of: (QueueStats, [Int]).self) { group in
            for shard in keys.shards {
                group.addTask { try await Self.read(redis: redis, shard: shard, workers: ids, now: now) }
            }
            var all: [(QueueStats, [Int])] = []
            for try await part in group { all.append(part) }
            return all
        }
        var stats = QueueStats()
        var processing = [Int](repeating: 0, count: ids.count)
        for (part, held) in parts {
            stats.queued += part.queued
            stats.retryDueNow += part.retryDueNow
            stats.retryLater += part.retryLater
            stats.dead += part.dead
            stats.auditLength += part.auditLength
            stats.rejectedLength += part.rejectedLength
            stats.optOuts += part.optOuts
            stats.oldestJobAge = max(stats.oldestJobAge, part.oldestJobAge)
            for i in held.indices { processing[i] += held[i] }
        }
        guard !ids.isEmpty else { return stats }
        let beats = try await redis.pipeline(ids.map { RedisCommand("GET", RedisArgument(keys.heartbeat($0))) })
        for (i, id) in ids.enumerated() {
            let at = beats[i].bytes.flatMap { try? JSONParser.parse($0) }?["at"]?.stringValue
            stats.workers.append(WorkerState(id: id, processing: processing[i], heartbeatAge: at == nil ? nil : Self.age(of: at)))
        }
        return stats
    }

    /// One shard's counts, and the jobs each worker holds in it.
    private static func read(redis: RedisClient, shard keys: RedisKeys, workers: [String], now: String) async throws
        -> (QueueStats, [Int])
    {
        let replies = try await redis.pipeline([
            RedisCommand("LLEN", RedisArgument(keys.replies)),
            RedisCommand("ZCOUNT", RedisArgument(keys.retry), "-inf", RedisArgument(now)),
            RedisCommand("ZCARD", RedisArgument(keys.retry)),
            RedisCommand("LLEN", RedisArgument(keys.dead)),
            RedisCommand("XLEN", RedisArgument(keys.audit)),
            RedisCommand("XLEN", RedisArgument(keys.rejected)),
            RedisCommand("SCARD", RedisArgument(keys.optOut)),
            RedisCommand("LINDEX", RedisArgument(keys.replies), "-1"),
        ] + workers.map { RedisCommand("LLEN", RedisArgument(keys.processing($0))) }).map { try $0.orThrow() }
        var stats = QueueStats()
        stats.queued = Int(replies[0].int ?? 0)
        stats.retryDueNow = Int(replies[1].int ?? 0)
        stats.retryLater = Int(replies[2].int ?? 0) - stats.retryDueNow
        stats.dead = Int(replies[3].int ?? 0)
        stats.auditLength = Int(replies[4].int ?? 0)
        stats.rejectedLength = Int(replies[5].int ?? 0)
        stats.optOuts = Int(replies[6].int ?? 0)
        stats.oldestJobAge = Self.age(of: replies[7].bytes.flatMap { try? JSONParser.parse($0) }?["created_at"]?.stringValue)
        return (stats, replies.dropFirst(8).map { Int($0.int ?? 0) })
    }

    /// Seconds since an ISO 8601 time; 0 when there is none or it cannot be read.
    static func age(of time: String?) -> Double { time.flatMap(Timestamp.age(of:)) ?? 0 }

    /// Publishes the snapshot as gauges.
    public func publish() {
        Gauge(label: "smshook_queue_jobs").record(self.queued)
        Gauge(label: "smshook_processing_jobs").record(self.processing)
        Gauge(label: "smshook_retry_jobs", dimensions: [("due", "now")]).record(self.retryDueNow)
        Gauge(label: "smshook_retry_jobs", dimensions: [("due", "later")]).record(self.retryLater)
        Gauge(label: "smshook_dead_jobs").record(self.dead)
        Gauge(label: "smshook_audit_entries").record(self.auditLength)
        Gauge(label: "smshook_optout_numbers").record(self.optOuts)
        Gauge(label: "smshook_workers").record(self.workers.count)
        Gauge(label: "smshook_workers_alive").record(self.workers.filter { $0.heartbeatAge != nil }.count)
        Gauge(label: "smshook_queue_oldest_seconds").record(self.oldestJobAge)
    }
}
