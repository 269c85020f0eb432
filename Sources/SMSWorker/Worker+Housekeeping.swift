import Foundation
import Metrics
import RedisClient
import SMSCore

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
        var suspects: Set<[UInt8]> = []
        while !Task.isCancelled {
            let now = clock.now
            if now >= nextHeartbeat {
                await self.heartbeat()
                nextHeartbeat = now + .seconds(self.configuration.heartbeatInterval)
            }
            if now >= nextSchedule && !self.isStopping {
                await self.moveDueRetries()
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

    private func moveDueRetries() async {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        do {
            let moved = try await self.redis.evaluate(
                WorkerScripts.schedule, keys: [RedisArgument(self.keys.retry), RedisArgument(self.keys.replies)],
                arguments: [RedisArgument(String(now)), 1000])
            if let n = moved.int, n > 0 { self.logger.info("due retries queued", metadata: ["jobs": "\(n)"]) }
        } catch {
            self.logger.error("retry scheduler failed", metadata: ["redis.error": "\(error)"])
        }
    }

    /// Jobs in this worker's processing list that no fetch loop holds: those also unheld at the previous scan are
    /// orphans (Redis moved them, the reply was lost to a timeout or a broken connection) and go back to the queue.
    /// Returns this scan's unheld jobs, the suspects of the next one.
    private func requeueOrphans(_ previous: Set<[UInt8]>) async -> Set<[UInt8]> {
        do {
            let listed = try await self.redis.send("LRANGE", RedisArgument(self.processingKey), 0, 999).array ?? []
            let held = Set(self.inFlight.withLock { $0.values })
            let unheld = Set(listed.compactMap(\.bytes).filter { !held.contains($0) })
            let orphans = unheld.intersection(previous)
            guard !orphans.isEmpty else { return unheld }
            let moved = try await self.redis.evaluate(
                WorkerScripts.requeueOrphans, keys: [RedisArgument(self.processingKey), RedisArgument(self.keys.replies)],
                arguments: orphans.map { RedisArgument(bytes: $0) })
            self.logger.warning("orphaned jobs returned to the queue", metadata: ["jobs": "\(moved.int ?? 0)"])
            Counter(label: "smshook_worker_orphans_requeued_total").increment(by: Int(moved.int ?? 0))
            return unheld.subtracting(orphans)
        } catch {
            self.logger.error("orphan scan failed", metadata: ["redis.error": "\(error)"])
            return previous
        }
    }

    /// One worker at a time (SET NX PX): return the jobs of workers whose heartbeat expired.
    private func reapIfElected() async {
        let me = self.configuration.workerID
        do {
            let lock = try await self.redis.send(
                "SET", RedisArgument(self.keys.reaperLock), RedisArgument(me), "NX", "PX",
                RedisArgument(Int(self.configuration.reapInterval * 1000)))
            guard lock == .status("OK") else { return }
            let members = try await self.redis.send("SMEMBERS", RedisArgument(self.keys.workers)).array ?? []
            for id in members.compactMap(\.string) where id != me {
                let moved = try await self.redis.evaluate(
                    WorkerScripts.reap,
                    keys: [self.keys.processing(id), self.keys.replies, self.keys.dead, self.keys.workers, self.keys.heartbeat(id)]
                        .map { RedisArgument($0) },
                    arguments: [
                        RedisArgument(id), RedisArgument(self.configuration.maxRecoveries),
                        RedisArgument(self.configuration.deadMax), RedisArgument(Self.now()),
                    ])
                if let n = moved.int, n >= 0 {
                    self.logger.warning("reaped a dead worker", metadata: ["dead_worker": "\(id)", "jobs": "\(n)"])
                }
            }
        } catch {
            self.logger.error("reaper failed", metadata: ["redis.error": "\(error)"])
        }
    }
}
