import Foundation
import Logging
import RedisClient
import SMSCore
import SMSStore
import SMSWorker
import TestSupport
import Testing

/// A worker on its own key prefix with short timings, and a client for the test's checks.
struct WorkerHarness {
    /// All shards' keys; `keys` is the first shard's (the only one on a single Redis).
    let space: KeySpace
    var keys: RedisKeys { self.space.shards[0] }
    let check: RedisClient
    var configuration: WorkerConfiguration

    /// - Parameter cluster: on the shared test cluster, with the cluster's default shard count.
    init(
        provider: WorkerConfiguration.Provider = .console, baseURL: String = "", prefix: String = TestRedis.uniquePrefix("worker"),
        cluster: Bool = false
    ) throws {
        let redis = cluster ? try TestCluster.shared().configuration() : try RedisConfiguration(url: TestRedis.url)
        var c = WorkerConfiguration(redis: redis, workerID: "w-\(UUID().uuidString.prefix(6))")
        c.keyPrefix = prefix
        c.shards = cluster ? KeySpace.defaultClusterShards : 1
        c.concurrency = 4
        c.blockSeconds = 0.1
        c.heartbeatInterval = 0.2
        c.heartbeatTTL = 2
        c.reapInterval = 0.2
        c.schedulerInterval = 0.05
        c.drainSeconds = 5
        c.backoff = Backoff(baseSeconds: 0.05, capSeconds: 0.2, maxAttempts: 3)
        c.provider = provider
        c.providerSettings.smsMobileAPIBaseURL = baseURL
        c.providerSettings.smsMobileAPIKey = "key-123"
        c.providerSettings.smsMobileAPISender = "ACME"
        c.providerSettings.twilioBaseURL = baseURL
        c.providerSettings.twilioAccountSID = "AC123"
        c.providerSettings.twilioAuthToken = "tok"
        c.providerSettings.twilioFrom = "+15550000000"
        c.providerSettings.httpURL = baseURL + "/hook"
        c.providerSettings.httpSecret = "whsec_" + Data("secret-key".utf8).base64EncodedString()
        self.configuration = c
        self.space = KeySpace(prefix: prefix, shards: c.shards)
        var logger = Logger(label: "test.worker.check")
        logger.logLevel = .critical
        self.check = RedisClient(configuration: redis, logger: logger)
    }

    func job(_ n: Int, to: String? = nil) -> ReplyJob {
        ReplyJob(
            id: "job-\(n)", to: to ?? "+1555010\(String(format: "%04d", n))", body: "Thanks! We got your YES.",
            inReplyTo: "guid-\(n)", intent: .affirmative, provider: "smsmobileapi", createdAt: "2025-01-20T10:00:00Z")
    }

    /// The shard of a job: its number's, as the ingest script put it there.
    func shard(_ job: ReplyJob) -> RedisKeys { self.space.shard(subscriber: job.to, guid: job.inReplyTo) }

    /// Queues each job on its shard, in order.
    func enqueue(_ jobs: [ReplyJob]) async throws {
        for job in jobs {
            try await self.check.send("LPUSH", RedisArgument(self.shard(job).replies), RedisArgument(job.json))
        }
    }

    /// Runs one worker until `until` holds (checked every 20 ms, at most `timeout`), then stops it gracefully.
    func runWorker(
        id: String? = nil, channels: WorkerChannels? = nil, events: EventDelivery? = nil, timeout: Duration = .seconds(20),
        until: @Sendable @escaping () async throws -> Bool
    ) async throws {
        var c = self.configuration
        if let id { c.workerID = id }
        var logger = Logger(label: "test.worker")
        logger.logLevel = .critical
        let redis = RedisClient(configuration: c.redis, logger: logger)
        // a sender owns an HTTP client: made only when the test gives no channels
        let chosen = channels ?? WorkerChannels(
            default: ChannelSender(name: "default", sender: HTTPSender.make(c), ratePerSecond: c.sendRate, burst: c.sendBurst))
        let worker = Worker(configuration: c, redis: redis, channels: chosen, events: events, logger: logger)
        let task = Task { try await worker.run() }
        let started = ContinuousClock.now
        while ContinuousClock.now - started < timeout {
            if try await until() { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        worker.stop()
        try await task.value
        await redis.shutdown()
    }

    func length(_ key: String) async throws -> Int {
        Int(try await self.check.send("LLEN", RedisArgument(key)).int ?? -1)
    }

    /// Decisions of the audit entries of `event`, every shard's (in shard order).
    func auditDecisions(event: String = "send") async throws -> [String] {
        var entries: [RedisReply] = []
        for shard in self.space.shards { entries += try await self.check.send("XRANGE", RedisArgument(shard.audit), "-", "+").array ?? [] }
        return entries.compactMap { e -> String? in
            guard let f = e.array?[1].array, f.count >= 4, f[1].string == event else { return nil }
            return f[3].string
        }
    }
}
