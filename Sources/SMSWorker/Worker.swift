import Foundation
import Logging
import Metrics
import RedisClient
import SMSCore
import SMSStore
import ServiceLifecycle
import Synchronization

/// `smshook worker`: drains the reply queue reliably.
///
/// `concurrency` fetch loops each move up to `fetchBatch` jobs from a queue into this worker's processing list of that
/// shard (`BLMOVE` on a dedicated connection when one shard's queue was empty, pipelined `LMOVE`s otherwise; polling
/// over the loop's shards with several), claim them (still owned, not sent, not opted out), send them one at a time,
/// then finish each (sent-marker, removal, audit in one transaction; or retry / dead in one script), all on the
/// job's shard. Housekeeping keeps a heartbeat, moves due retries back and, one worker at a time, reaps
/// the jobs of workers whose heartbeat expired. On graceful shutdown it stops fetching, lets in-flight sends finish
/// within the drain deadline and gives back what it still holds.
public final class Worker: Service, Sendable {
    let configuration: WorkerConfiguration
    let redis: RedisClient
    let channels: WorkerChannels
    let keys: KeySpace
    let logger: Logger
    let stopping = StopSignal()
    /// What each fetch or delivery loop is working on now (by loop slot: a cheap update per batch): the processing list
    /// each item was moved into, and the item. Anything else found in this worker's processing lists twice in a row is an
    /// orphan of a fetch whose reply never arrived.
    let inFlight = Mutex<[Int: [Held]]>([:])
    /// This worker's processing list in each shard, by shard index (built once: used several times per job).
    let processingKeys: [String]
    /// Each shard's share of `SMSHOOK_AUDIT_MAXLEN`.
    let auditMaxLength: Int
    /// Event delivery to the application's endpoints; nil when none is configured.
    let events: EventDelivery?
    /// Replies sent per minute, added to Redis by housekeeping (the console's dashboard).
    let stats = MinuteStats()
    /// Endpoints that answered 410 Gone (re-read from Redis by housekeeping).
    let disabledEndpoints = Mutex<Set<String>>([])

    struct Held: Hashable, Sendable {
        let list: String
        let raw: [UInt8]
    }
    /// One channel: the given sender with the configured send rate (tests, single-provider use).
    public convenience init(configuration: WorkerConfiguration, redis: RedisClient, sender: any ReplySender, logger: Logger) {
        let fallback = ChannelSender(
            name: "default", sender: sender, ratePerSecond: configuration.sendRate, burst: configuration.sendBurst)
        self.init(configuration: configuration, redis: redis, channels: WorkerChannels(default: fallback), logger: logger)
    }

    public init(
        configuration: WorkerConfiguration, redis: RedisClient, channels: WorkerChannels, events: EventDelivery? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.events = events
        self.redis = redis
        self.channels = channels
        self.keys = KeySpace(prefix: configuration.keyPrefix, shards: configuration.shards)
        self.processingKeys = self.keys.shards.map { $0.processing(configuration.workerID) }
        self.auditMaxLength = self.keys.perShard(configuration.auditMaxLength)
        var logger = logger
        logger[metadataKey: "worker.id"] = "\(configuration.workerID)"
        self.logger = logger
    }

    /// Stops fetching; in-flight jobs finish within the drain deadline.
    public func stop() { self.stopping.fire() }

    var isStopping: Bool { self.stopping.isFired }

    public func run() async throws {
        // every serve and worker must agree on the shards; wait for Redis rather than guess
        while !self.isStopping {
            do {
                try await self.keys.checkLayout(self.redis)
                break
            } catch let error as KeySpace.LayoutError {
                self.logger.critical("refusing to start", metadata: ["error": "\(error)"])
                throw error
            } catch {
                self.logger.error("redis not reachable at start-up; waiting", metadata: ["redis.error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        if let events = self.events { await self.refreshDisabled(events) }
        self.logger.info("worker starting", metadata: [
            "worker.shards": "\(self.keys.shards.count)",
            "worker.concurrency": "\(self.configuration.concurrency)", "worker.channels": "\(self.channels.all.map { "\($0.name)=\($0.sender.name)" }.joined(separator: ","))",
            "worker.event_endpoints": "\(self.events?.targets.map(\.name).joined(separator: ",") ?? "none")",
        ])
        await withGracefulShutdownHandler {
            await self.runLoops()
        } onGracefulShutdown: {
            self.logger.info("worker stopping: no new jobs, draining in-flight ones")
            self.stop()
        }
        await self.giveBack()
        await self.stats.flush(redis: self.redis, keys: self.keys)
        for channel in self.channels.all { await channel.sender.shutdown() }
        await self.events?.shutdown()
        self.logger.info("worker stopped")
    }

    private enum Child { case fetchLoop, housekeeping, deadline }

    private func runLoops() async {
        await withTaskGroup(of: Child.self) { group in
            group.addTask { await self.housekeeping(); return .housekeeping }
            for index in 0..<self.configuration.concurrency {
                group.addTask { await self.fetchLoop(index); return .fetchLoop }
            }
            var loops = self.configuration.concurrency
            if let events = self.events {
                for target in events.targets {
                    for index in 0..<events.concurrency {
                        let slot = loops  // after the fetch loops' slots
                        group.addTask { await self.eventLoop(target, index, slot: slot, events); return .fetchLoop }
                        loops += 1
                    }
                }
            }
            group.addTask {
                await self.stopping.wait()
                try? await Task.sleep(for: .seconds(self.configuration.drainSeconds))
                return .deadline
            }
            var loopsLeft = loops
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

    /// This worker's processing lists and the queues they return to: its reply jobs' and each endpoint's events', on
    /// every shard.
    func heldLists(of id: String) -> [(processing: String, queue: String)] {
        self.keys.shards.map { ($0.processing(id), $0.replies) } + self.eventLists(of: id)
    }

    /// The event processing lists of worker `id` (this one's, or a dead one's for the reaper), with their queues.
    func eventLists(of id: String) -> [(processing: String, queue: String)] {
        guard let targets = self.events?.targets else { return [] }
        return self.keys.shards.flatMap { shard in targets.map { (shard.eventsProcessing($0.name, id), shard.events($0.name)) } }
    }

    /// Gives back every job and event still in this worker's processing lists, then deregisters.
    private func giveBack() async {
        var left = self.heldLists(of: self.configuration.workerID)
        for attempt in 0..<20 {
            do {
                while let list = left.first {
                    let moved = try await self.redis.evaluate(
                        WorkerScripts.requeue, keys: [RedisArgument(list.processing), RedisArgument(list.queue)], arguments: [])
                    if let n = moved.int, n > 0 { self.logger.info("jobs given back to the queue", metadata: ["jobs": "\(n)"]) }
                    left.removeFirst()
                }
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
