import Foundation
import Metrics
import RedisClient
import SMSCore
import SMSStore

extension Worker {
    /// Heartbeat, retry scheduler and reaper, until cancelled (after the fetch loops have ended).
    func housekeeping() async {
        let clock = ContinuousClock()
        var nextHeartbeat = clock.now
        var nextSchedule = clock.now
        var nextReap = clock.now + .seconds(self.configuration.reapInterval * Double.random(in: 0.1...1))
        // longer than a fetch can wait for its reply, so a job seen unclaimed in two scans can no longer be claimed
        let orphanInterval = Duration.seconds(self.configuration.blockSeconds) + self.configuration.redis.commandTimeout + .seconds(1)
        var nextOrphanScan = clock.now + orphanInterval
        var suspects: Set<Held> = []
        var nextEventGauges = clock.now
        while !Task.isCancelled {
            let now = clock.now
            if now >= nextHeartbeat {
                await self.stats.flush(redis: self.redis, keys: self.keys)
                await self.heartbeat()
                nextHeartbeat = now + .seconds(self.configuration.heartbeatInterval)
            }
            if now >= nextSchedule && !self.isStopping {
                await self.moveDueRetries()
                if let events = self.events {
                    await self.eventHousekeeping(events, gauges: now >= nextEventGauges)
                    if now >= nextEventGauges { nextEventGauges = now + .seconds(5) }
                }
                nextSchedule = now + .seconds(self.configuration.schedulerInterval)
            }
            if now >= nextReap && !self.isStopping {
                await self.reapIfElected()
                nextReap = now + .seconds(self.configuration.reapInterval)
            }
            if now >= nextOrphanScan && !self.isStopping {
                suspects = await self.requeueOrphans(suspects)
                nextOrphanScan = now + orphanInterval
            }
            let wake = min(nextHeartbeat, nextSchedule, nextReap, nextOrphanScan)
            try? await Task.sleep(until: max(wake, clock.now + .milliseconds(10)), clock: clock)
        }
    }

    private func heartbeat() async {
        let value = JSONValue.object([
            ("pid", .number(String(ProcessInfo.processInfo.processIdentifier))),
            ("host", .string(ProcessInfo.processInfo.hostName)), ("at", .string(Self.now())),
        ]).json
        do {
            _ = try await self.redis.pipeline([
                RedisCommand(
                    "SET", RedisArgument(self.keys.heartbeat(self.configuration.workerID)), RedisArgument(value), "EX",
                    RedisArgument(self.configuration.heartbeatTTL)),
                RedisCommand("SADD", RedisArgument(self.keys.workers), RedisArgument(self.configuration.workerID)),
            ])
        } catch {
            self.logger.error("heartbeat failed", metadata: ["redis.error": "\(error)"])
        }
    }

    /// Moves due retries back to their queues, every shard (concurrently).
    private func moveDueRetries() async {
        let now = RedisArgument(String(Int64(Date().timeIntervalSince1970 * 1000)))
        let moved = await self.eachShard { shard in
            try await self.redis.evaluate(
                WorkerScripts.schedule, keys: [RedisArgument(shard.retry), RedisArgument(shard.replies)],
                arguments: [now, 1000]
            ).int ?? 0
        }
        if let n = moved, n > 0 { self.logger.info("due retries queued", metadata: ["jobs": "\(n)"]) }
        if moved == nil { self.logger.error("retry scheduler failed on some shard; next round retries") }
    }

    /// Runs `step` on every shard concurrently; the sum of its answers, nil when any failed.
    private func eachShard(_ step: @escaping @Sendable (RedisKeys) async throws -> Int64) async -> Int64? {
        await withTaskGroup(of: Int64?.self) { group in
            for shard in self.keys.shards { group.addTask { try? await step(shard) } }
            var total: Int64? = 0
            for await n in group { total = n.flatMap { n in total.map { $0 + n } } }
            return total
        }
    }

    /// Jobs and events in this worker's processing lists that no loop holds: those also unheld at the previous scan are
    /// orphans (Redis moved them, the reply was lost to a timeout or a broken connection) and go back to their
    /// queue. Returns this scan's unheld items, the suspects of the next one.
    private func requeueOrphans(_ previous: Set<Held>) async -> Set<Held> {
        var unheld: Set<Held> = []
        var failed = false
        for list in self.heldLists(of: self.configuration.workerID) {
            do {
                let listed = try await self.redis.send("LRANGE", RedisArgument(list.processing), 0, 999).array ?? []
                if listed.isEmpty { continue }
                let held = Set(self.inFlight.withLock { $0.values.joined() })
                let mine = Set(listed.compactMap(\.bytes).map { Held(list: list.processing, raw: $0) }.filter { !held.contains($0) })
                let orphans = mine.intersection(previous)
                unheld.formUnion(mine.subtracting(orphans))
                guard !orphans.isEmpty else { continue }
                let moved = try await self.redis.evaluate(
                    WorkerScripts.requeueOrphans, keys: [RedisArgument(list.processing), RedisArgument(list.queue)],
                    arguments: orphans.map { RedisArgument(bytes: $0.raw) })
                self.logger.warning("orphaned items returned to their queue", metadata: ["items": "\(moved.int ?? 0)", "list": "\(list.processing)"])
                Counter(label: "smshook_worker_orphans_requeued_total").increment(by: Int(moved.int ?? 0))
            } catch {
                if !failed { self.logger.error("orphan scan failed", metadata: ["redis.error": "\(error)"]) }
                failed = true
                unheld.formUnion(previous.filter { $0.list == list.processing })
            }
        }
        return unheld
    }

    /// One worker at a time (SET NX PX): return the jobs of workers whose heartbeat expired, shard by shard.
    private func reapIfElected() async {
        let me = self.configuration.workerID
        do {
            let lock = try await self.redis.send(
                "SET", RedisArgument(self.keys.reaperLock), RedisArgument(me), "NX", "PX",
                RedisArgument(Int(self.configuration.reapInterval * 1000)))
            guard lock == .status("OK") else { return }
            let members = try await self.redis.send("SMEMBERS", RedisArgument(self.keys.workers)).array ?? []
            for id in members.compactMap(\.string) where id != me {
                // alive: nothing to do (a worker that stalls past its TTL is reaped; the claim fences it off)
                if try await self.redis.send("EXISTS", RedisArgument(self.keys.heartbeat(id))) == .integer(1) { continue }
                let arguments = [
                    RedisArgument(self.configuration.maxRecoveries), RedisArgument(self.configuration.deadMax),
                    RedisArgument(Self.now()),
                ]
                let moved = await self.eachShard { shard in
                    try await self.redis.evaluate(
                        WorkerScripts.reap,
                        keys: [shard.processing(id), shard.replies, shard.dead].map { RedisArgument($0) },
                        arguments: arguments
                    ).int ?? 0
                }
                guard let moved else { continue }  // some shard failed: the next round tries again
                // its events go back as they are (no poison count: an unreadable event is dead at once anyway)
                for list in self.eventLists(of: id) {
                    _ = try await self.redis.evaluate(
                        WorkerScripts.requeue, keys: [RedisArgument(list.processing), RedisArgument(list.queue)], arguments: [])
                }
                try await self.redis.send("SREM", RedisArgument(self.keys.workers), RedisArgument(id))
                self.logger.warning("reaped a dead worker", metadata: ["dead_worker": "\(id)", "jobs": "\(moved)"])
            }
        } catch {
            self.logger.error("reaper failed", metadata: ["redis.error": "\(error)"])
        }
    }
}
