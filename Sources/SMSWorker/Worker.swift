import Foundation
import Logging
import Metrics
import RedisClient
import SMSCore
import ServiceLifecycle
import Synchronization

/// `smshook worker`: drains the reply queue reliably.
///
/// `concurrency` fetch loops each `BLMOVE` a job from the queue into this worker's processing list (on a dedicated
/// connection), check opt-out and the sent-marker, send, then finish the job in one script (sent-marker, removal,
/// audit; or retry / dead). Housekeeping keeps a heartbeat, moves due retries back and, one worker at a time, reaps
/// the jobs of workers whose heartbeat expired. On graceful shutdown it stops fetching, lets in-flight sends finish
/// within the drain deadline and gives back what it still holds.
public final class Worker: Service, Sendable {
    let configuration: WorkerConfiguration
    let redis: RedisClient
    let channels: WorkerChannels
    let keys: RedisKeys
    let logger: Logger
    let stopping = StopSignal()
    let processingKey: String
    /// The job each fetch loop is working on now (by loop index: a cheap update per job); anything else found in the
    /// processing list twice in a row is an orphan of a fetch whose reply never arrived.
    let inFlight = Mutex<[Int: [UInt8]]>([:])
    /// One channel: the given sender with the configured send rate (tests, single-provider use).
    public convenience init(configuration: WorkerConfiguration, redis: RedisClient, sender: any ReplySender, logger: Logger) {
        let fallback = ChannelSender(
            name: "default", sender: sender, ratePerSecond: configuration.sendRate, burst: configuration.sendBurst)
        self.init(configuration: configuration, redis: redis, channels: WorkerChannels(default: fallback), logger: logger)
    }

    public init(configuration: WorkerConfiguration, redis: RedisClient, channels: WorkerChannels, logger: Logger) {
        self.configuration = configuration
        self.redis = redis
        self.channels = channels
        self.keys = RedisKeys(prefix: configuration.keyPrefix)
        self.processingKey = RedisKeys(prefix: configuration.keyPrefix).processing(configuration.workerID)
        var logger = logger
        logger[metadataKey: "worker.id"] = "\(configuration.workerID)"
        self.logger = logger
    }

    /// Stops fetching; in-flight jobs finish within the drain deadline.
    public func stop() { self.stopping.fire() }

    var isStopping: Bool { self.stopping.isFired }

    public func run() async throws {
        self.logger.info("worker starting", metadata: [
            "worker.concurrency": "\(self.configuration.concurrency)", "worker.channels": "\(self.channels.all.map { "\($0.name)=\($0.sender.name)" }.joined(separator: ","))",
        ])
        await withGracefulShutdownHandler {
            await self.runLoops()
        } onGracefulShutdown: {
            self.logger.info("worker stopping: no new jobs, draining in-flight ones")
            self.stop()
        }
        await self.giveBack()
        for channel in self.channels.all { await channel.sender.shutdown() }
        self.logger.info("worker stopped")
    }

    private enum Child { case fetchLoop, housekeeping, deadline }

    private func runLoops() async {
        await withTaskGroup(of: Child.self) { group in
            group.addTask { await self.housekeeping(); return .housekeeping }
            for index in 0..<self.configuration.concurrency {
                group.addTask { await self.fetchLoop(index); return .fetchLoop }
            }
            group.addTask {
                await self.stopping.wait()
                try? await Task.sleep(for: .seconds(self.configuration.drainSeconds))
                return .deadline
            }
            var loopsLeft = self.configuration.concurrency
            while let child = await group.next() {
                switch child {
                case .fetchLoop:
                    loopsLeft -= 1
                    if loopsLeft == 0 { group.cancelAll() }
                case .deadline:
                    if loopsLeft > 0 {
                        self.logger.warning("drain deadline reached; unfinished jobs go back to the queue")
                    }
                    group.cancelAll()
                case .housekeeping:
                    break
                }
            }
        }
    }

    private func fetchLoop(_ index: Int) async {
        let connection = self.redis.makeDedicatedConnection()
        let block = self.configuration.blockSeconds
        let fetch = RedisCommand(
            "BLMOVE", RedisArgument(self.keys.replies), RedisArgument(self.processingKey), "RIGHT", "LEFT",
            RedisArgument(String(block)))
        let timeout = Duration.seconds(block) + self.configuration.redis.commandTimeout
        // While the queue has jobs, fetch with a non-blocking LMOVE on the shared, pipelined connection (the
        // fetches of all loops share round trips); block on the dedicated connection only when it ran dry.
        let poll = RedisCommand(
            "LMOVE", RedisArgument(self.keys.replies), RedisArgument(self.processingKey), "RIGHT", "LEFT")
        var idle = true
        var failures = 0
        while !self.isStopping && !Task.isCancelled {
            do {
                let reply = idle ? try await connection.send(fetch, timeout: timeout) : try await self.redis.send(poll)
                failures = 0
                guard let raw = reply.bytes else {
                    idle = true
                    continue
                }
                idle = false
                self.inFlight.withLock { $0[index] = raw }
                await self.process(raw)
                self.inFlight.withLock { $0[index] = nil }
            } catch {
                failures += 1
                if failures == 1 { self.logger.error("fetch failed", metadata: ["redis.error": "\(error)"]) }
                try? await Task.sleep(for: .milliseconds(min(1000, 50 * (1 << min(failures, 5)))))
            }
        }
        await connection.close()
    }

    /// Gives back every job still in this worker's processing list, then deregisters.
    private func giveBack() async {
        for attempt in 0..<20 {
            do {
                let moved = try await self.redis.evaluate(
                    WorkerScripts.requeue, keys: [RedisArgument(self.processingKey), RedisArgument(self.keys.replies)],
                    arguments: [])
                if let n = moved.int, n > 0 { self.logger.info("jobs given back to the queue", metadata: ["jobs": "\(n)"]) }
                _ = try await self.redis.pipeline([
                    RedisCommand("DEL", RedisArgument(self.keys.heartbeat(self.configuration.workerID))),
                    RedisCommand("SREM", RedisArgument(self.keys.workers), RedisArgument(self.configuration.workerID)),
                ])
                return
            } catch {
                if attempt == 0 { self.logger.error("cannot give jobs back yet", metadata: ["redis.error": "\(error)"]) }
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        self.logger.error("jobs left in the processing list; the reaper returns them once the heartbeat expires")
    }
}
