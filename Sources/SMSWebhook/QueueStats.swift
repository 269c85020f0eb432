import Foundation
import Metrics
import RedisClient
import SMSCore

/// A cheap snapshot of the queues, read in two pipelined round trips: for `smshook inspect` and the gauges.
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

    public static func read(redis: RedisClient, keys: RedisKeys) async throws -> QueueStats {
        let now = String(Int64(Date().timeIntervalSince1970 * 1000))
        let first = try await redis.pipeline([
            RedisCommand("LLEN", RedisArgument(keys.replies)),
            RedisCommand("ZCOUNT", RedisArgument(keys.retry), "-inf", RedisArgument(now)),
            RedisCommand("ZCARD", RedisArgument(keys.retry)),
            RedisCommand("LLEN", RedisArgument(keys.dead)),
            RedisCommand("XLEN", RedisArgument(keys.audit)),
            RedisCommand("XLEN", RedisArgument(keys.rejected)),
            RedisCommand("SCARD", RedisArgument(keys.optOut)),
            RedisCommand("SMEMBERS", RedisArgument(keys.workers)),
            RedisCommand("LINDEX", RedisArgument(keys.replies), "-1"),
        ]).map { try $0.orThrow() }
        var stats = QueueStats()
        stats.queued = Int(first[0].int ?? 0)
        stats.retryDueNow = Int(first[1].int ?? 0)
        stats.retryLater = Int(first[2].int ?? 0) - stats.retryDueNow
        stats.dead = Int(first[3].int ?? 0)
        stats.auditLength = Int(first[4].int ?? 0)
        stats.rejectedLength = Int(first[5].int ?? 0)
        stats.optOuts = Int(first[6].int ?? 0)
        stats.oldestJobAge = Self.age(of: first[8].bytes.flatMap { try? JSONParser.parse($0) }?["created_at"]?.stringValue)
        let ids = (first[7].array ?? []).compactMap(\.string).sorted()
        guard !ids.isEmpty else { return stats }
        var commands: [RedisCommand] = []
        for id in ids {
            commands.append(RedisCommand("LLEN", RedisArgument(keys.processing(id))))
            commands.append(RedisCommand("GET", RedisArgument(keys.heartbeat(id))))
        }
        let second = try await redis.pipeline(commands)
        for (i, id) in ids.enumerated() {
            let at = second[2 * i + 1].bytes.flatMap { try? JSONParser.parse($0) }?["at"]?.stringValue
            let age = at == nil ? nil : Self.age(of: at)
            stats.workers.append(WorkerState(id: id, processing: Int(second[2 * i].int ?? 0), heartbeatAge: age))
        }
        return stats
    }

    /// Seconds since an ISO 8601 time; 0 when there is none or it cannot be read.
    static func age(of time: String?) -> Double {
        guard let time, let date = try? Date(time, strategy: .iso8601) else { return 0 }
        return max(0, Date().timeIntervalSince(date))
    }

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
