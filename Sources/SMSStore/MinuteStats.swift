import Foundation
import RedisClient
import Synchronization

/// Messages in and replies out per minute, for every instance together: each process counts in memory and adds its
/// counts to `<prefix>:stats:<minute>` (a hash per minute, kept 2 hours) every few seconds. The console's sparklines
/// read the last hour in one round trip. Costs the hot path one lock per call, Redis one write per process per flush.
public final class MinuteStats: Sendable {
    /// field → minute (Unix minutes) → count not yet written.
    private let pending = Mutex<[String: [Int64: Int]]>([:])
    public static let keepSeconds = 2 * 3600

    public init() {}

    public func add(_ field: String, _ n: Int = 1, at date: Date = Date()) {
        guard n > 0 else { return }
        let minute = Int64(date.timeIntervalSince1970 / 60)
        self.pending.withLock { $0[field, default: [:]][minute, default: 0] += n }
    }

    /// Writes what was counted since the last flush (kept for the next one when Redis fails).
    public func flush(redis: RedisClient, keys: KeySpace) async {
        let counts = self.pending.withLock { pending in
            defer { pending = [:] }
            return pending
        }
        guard !counts.isEmpty else { return }
        var commands: [RedisCommand] = []
        for (field, minutes) in counts {
            for (minute, n) in minutes {
                commands.append(RedisCommand("HINCRBY", RedisArgument(keys.stats(minute: minute)), RedisArgument(field), RedisArgument(n)))
                commands.append(RedisCommand("EXPIRE", RedisArgument(keys.stats(minute: minute)), RedisArgument(Self.keepSeconds)))
            }
        }
        do {
            _ = try await redis.pipeline(commands)
        } catch {
            self.pending.withLock { pending in  // put back: counted again at the next flush
                for (field, minutes) in counts { for (minute, n) in minutes { pending[field, default: [:]][minute, default: 0] += n } }
            }
        }
    }

    /// Per field, the counts of the last `minutes` minutes up to `now` (the current one so far included), oldest first.
    public static func read(redis: RedisClient, keys: KeySpace, fields: [String], minutes: Int = 60, now: Date = Date()) async throws
        -> [String: [Int]]
    {
        let current = Int64(now.timeIntervalSince1970 / 60)
        let range = (current - Int64(minutes) + 1)...current
        let replies = try await redis.pipeline(range.map { minute in
            RedisCommand([RedisArgument("HMGET"), RedisArgument(keys.stats(minute: minute))] + fields.map { RedisArgument($0) })
        })
        var out: [String: [Int]] = Dictionary(uniqueKeysWithValues: fields.map { ($0, []) })
        for reply in replies {
            let values = (try reply.orThrow().array ?? []).map { $0.string.flatMap(Int.init) ?? 0 }
            for (i, field) in fields.enumerated() { out[field]?.append(i < values.count ? values[i] : 0) }
        }
        return out
    }
}
