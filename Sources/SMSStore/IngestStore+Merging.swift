import RedisClient
import Synchronization

/// The shared state of merged ingest calls (`CallMerging`, one per shard) and the requests waiting in it.
final class MergedCalls: Sendable {
    /// One request's part of a call: what it stores, and where its answer goes when another task sends the call.
    final class Pending: @unchecked Sendable {
        let entries: ArraySlice<IngestScript.Entry>
        let rejected: [String]
        let settings: IngestScript.Settings
        let script: RedisScript
        /// Set under the lock before the request is queued; resumed once.
        var continuation: UnsafeContinuation<Turn, Never>?

        init(entries: ArraySlice<IngestScript.Entry>, rejected: [String], settings: IngestScript.Settings, script: RedisScript) {
            self.entries = entries
            self.rejected = rejected
            self.settings = settings
            self.script = script
        }
    }

    /// What a waiting request is woken with: its answer, or the call to send (itself first).
    enum Turn {
        case answered(Result<[IngestOutcome], IngestStore.Failure>)
        case send([Pending])
    }

    /// Requests of more messages go on their own: they already share a call's fixed cost among their messages.
    static let mergeable = 10
    let limit: Int
    private let shards: Mutex<[CallMerging<Pending, IngestScript.Settings>]>

    /// - Parameters:
    ///   - limit: calls in flight per shard; 0 turns merging off.
    ///   - maxMessages: the most messages one merged call carries.
    init(shards: Int, limit: Int, maxMessages: Int = 100) {
        self.limit = limit
        self.shards = Mutex(Array(repeating: CallMerging(limit: limit, maxMessages: maxMessages), count: max(1, shards)))
    }

    /// The requests this one sends (itself alone when a slot was free), or its answer when another task sent it.
    func turn(_ me: Pending, shard: Int) async -> Turn {
        if self.shards.withLock({ $0[shard].takeSlot() }) { return .send([me]) }
        return await withUnsafeContinuation { continuation in
            let now = self.shards.withLock { shards -> Bool in
                if shards[shard].takeSlot() { return true }  // a slot freed since the first look
                me.continuation = continuation
                shards[shard].wait(me, key: me.settings, messages: me.entries.count)
                return false
            }
            if now { continuation.resume(returning: .send([me])) }
        }
    }

    /// Requests waiting for a call to `shard` (for tests and diagnostics).
    func waiting(shard: Int) -> Int { self.shards.withLock { $0[shard].waitingCount } }

    /// After a call: wakes the first request of the next merged call, if any waits, to send it.
    func finished(shard: Int) {
        guard let next = self.shards.withLock({ $0[shard].finished() }) else { return }
        next[0].continuation?.resume(returning: .send(next))
    }
}

extension IngestStore {
    /// A single-shard request's call, merged with those of requests that arrive while `callsInFlight` calls to the
    /// shard are under way: one script call then carries several requests' messages, and each gets its own
    /// outcomes. Redis pays a call's fixed cost (about 40% of a single message's) once for all of them.
    func merged(
        _ entries: ArraySlice<IngestScript.Entry>, rejected: [String], shard: Int, settings: IngestScript.Settings,
        script: RedisScript
    ) async throws(Failure) -> [IngestOutcome] {
        let me = MergedCalls.Pending(entries: entries, rejected: rejected, settings: settings, script: script)
        let batch: [MergedCalls.Pending]
        switch await self.merging.turn(me, shard: shard) {
        case .answered(let result): return try result.get()
        case .send(let requests): batch = requests
        }
        let result: Result<[IngestOutcome], Failure>
        if batch.count == 1 {
            result = await self.result(entries, rejected: rejected, shard: shard, settings: settings, script: script)
        } else {
            // in a task of its own: cancelling this request must not fail the others it carries
            let all = batch.flatMap(\.entries)
            let allRejected = batch.flatMap(\.rejected)
            result = await Task {
                await self.result(all[...], rejected: allRejected, shard: shard, settings: settings, script: script)
            }.value
        }
        var mine = result
        var offset = 0
        for request in batch {
            let part = result.map { Array($0[offset..<offset + request.entries.count]) }
            offset += request.entries.count
            if request === me { mine = part } else { request.continuation?.resume(returning: .answered(part)) }
        }
        self.merging.finished(shard: shard)
        return try mine.get()
    }
}
