import RedisClient
import SMSStore

extension Worker {
    /// Fetch loop `index`: moves jobs into this worker's processing lists and processes them, until stopping.
    func fetchLoop(_ index: Int) async {
        if self.keys.isSharded {
            await self.pollLoop(index)
        } else {
            await self.blockingLoop(index)
        }
    }

    /// One shard: `BLMOVE` from the queue on a dedicated connection while it is empty.
    private func blockingLoop(_ index: Int) async {
        let shard = self.keys.shards[0]
        let connection = self.redis.makeDedicatedConnection()
        let block = self.configuration.blockSeconds
        let processing = self.processingKeys[0]
        let fetch = RedisCommand(
            "BLMOVE", RedisArgument(shard.replies), RedisArgument(processing), "RIGHT", "LEFT", RedisArgument(String(block)))
        let timeout = Duration.seconds(block) + self.configuration.redis.commandTimeout
        // While the queue has jobs, fetch up to a batch with non-blocking LMOVEs in one round trip on the shared,
        // pipelined connection; block on the dedicated connection only when a batch came back short (the queue ran dry).
        let poll = RedisCommand("LMOVE", RedisArgument(shard.replies), RedisArgument(processing), "RIGHT", "LEFT")
        let batch = self.configuration.fetchBatch
        var idle = true
        var failures = 0
        while !self.isStopping && !Task.isCancelled {
            do {
                let raws: [[UInt8]]
                if idle {
                    raws = try await connection.send(fetch, timeout: timeout).bytes.map { [$0] } ?? []
                    idle = raws.isEmpty
                } else {
                    raws = try await self.fetch(poll, batch: batch)
                    idle = raws.count < batch
                }
                failures = 0
                if !raws.isEmpty { await self.hold(index, shard: 0, raws) }
            } catch {
                failures += 1
                await self.fetchFailed(error, failures)
            }
        }
        await connection.close()
    }

    /// Several shards (a cluster): `LMOVE` on each of this loop's shards in turn, on the shared routed connections;
    /// after a round that found nothing, a pause doubling from 5 ms to `pollMaxMilliseconds`. No blocking connection
    /// per shard: idle cost is one LMOVE per shard per pause per worker.
    private func pollLoop(_ index: Int) async {
        let shards = Self.shards(ofLoop: index, loops: self.configuration.concurrency, shards: self.keys.shards.count)
            .map { self.keys.shards[$0] }
        let fetches = shards.map {
            RedisCommand("LMOVE", RedisArgument($0.replies), RedisArgument(self.processingKeys[$0.index]), "RIGHT", "LEFT")
        }
        await self.poll(fetches, batch: self.configuration.fetchBatch) { i, raws in
            await self.hold(index, shard: shards[i].index, raws)
        }
    }

    /// Up to `batch` items moved by `fetch` (an `LMOVE`), in one round trip. An error reply fails the fetch unless
    /// items were moved before it (those are handed on; the scan for orphans covers a reply that never came).
    func fetch(_ fetch: RedisCommand, batch: Int) async throws -> [[UInt8]] {
        if batch == 1 { return try await self.redis.send(fetch).bytes.map { [$0] } ?? [] }
        var raws: [[UInt8]] = []
        for reply in try await self.redis.pipeline(Array(repeating: fetch, count: batch)) {
            if case .error(let message) = reply, raws.isEmpty { throw RedisError(.server, message) }
            if let raw = reply.bytes { raws.append(raw) }
        }
        return raws
    }

    /// Sends `fetches` (one `LMOVE` per shard, up to `batch` at a time) in turn until one yields items, which `handle`
    /// gets with the shard's index; the next round starts at the next shard, so that no shard waits behind a busy one.
    /// After a round that found nothing, a pause doubling from 5 ms to `pollMaxMilliseconds`; while `paused` holds,
    /// only the pause. Until stopping.
    func poll(
        _ fetches: [RedisCommand], batch: Int = 1, paused: () -> Bool = { false }, handle: (Int, [[UInt8]]) async -> Void
    ) async {
        var next = 0
        var pause = 5
        var failures = 0
        while !self.isStopping && !Task.isCancelled {
            var found = false
            for _ in fetches.indices where !self.isStopping && !paused() {
                let i = next
                next = (next + 1) % fetches.count
                do {
                    let raws = try await self.fetch(fetches[i], batch: batch)
                    failures = 0
                    guard !raws.isEmpty else { continue }
                    found = true
                    await handle(i, raws)
                    break
                } catch {
                    failures += 1
                    await self.fetchFailed(error, failures)
                    break
                }
            }
            if found {
                pause = 5
            } else if failures == 0 {
                try? await Task.sleep(for: .milliseconds(pause))
                pause = min(pause * 2, self.configuration.pollMaxMilliseconds)
            }
        }
    }

    /// The shards loop `index` of `loops` polls: every `loops`-th one, or (more loops than shards) one shared.
    static func shards(ofLoop index: Int, loops: Int, shards: Int) -> [Int] {
        let stride = min(loops, shards)
        return Array(Swift.stride(from: index % stride, to: shards, by: stride))
    }

    private func hold(_ slot: Int, shard: Int, _ raws: [[UInt8]]) async {
        let list = self.processingKeys[shard]
        self.inFlight.withLock { $0[slot] = raws.map { Held(list: list, raw: $0) } }
        if raws.count == 1 {
            await self.process(raws[0], shard: self.keys.shards[shard])
        } else {
            await self.process(batch: raws, shard: self.keys.shards[shard])
        }
        self.inFlight.withLock { $0[slot] = nil }
    }

    private func fetchFailed(_ error: any Error, _ failures: Int) async {
        if failures == 1 { self.logger.error("fetch failed", metadata: ["redis.error": "\(error)"]) }
        try? await Task.sleep(for: .milliseconds(min(1000, 50 * (1 << min(failures, 5)))))
    }
}
