import Foundation
import Logging
import RedisClient
import SMSCore
@testable import SMSWorker
import TestSupport
import Testing

/// A worker must not send a job it no longer owns, nor one another worker may already have sent.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct FencingTests {
    /// A worker (not running) of the harness, with the HTTP sender aimed at `base`.
    private func idleWorker(_ h: WorkerHarness) -> (Worker, RedisClient) {
        var logger = Logger(label: "test.worker")
        logger.logLevel = .critical
        let redis = RedisClient(configuration: h.configuration.redis, logger: logger)
        return (Worker(configuration: h.configuration, redis: redis, sender: HTTPSender.make(h.configuration), logger: logger), redis)
    }

    private func close(_ worker: Worker, _ redis: RedisClient) async {
        for channel in worker.channels.all { await channel.sender.shutdown() }
        await redis.shutdown()
    }

    @Test func aJobReapedWhileTheWorkerStalledIsNotSentByIt() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204) }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base)
            let (worker, redis) = self.idleWorker(h)
            let raw = Array(h.job(1).json.utf8)
            let processing = RedisArgument(h.keys.processing(h.configuration.workerID))
            // fetched by this worker; then, while it stalled, the reaper gave it back to the queue
            try await h.check.send("LPUSH", processing, RedisArgument(bytes: raw))
            try await h.check.send("RPOPLPUSH", processing, RedisArgument(h.keys.replies))
            await worker.process(raw, shard: h.keys)
            #expect(fake.recorded.isEmpty)
            #expect(try await h.length(h.keys.replies) == 1)  // the new owner's copy, untouched
            #expect(try await h.check.send("EXISTS", RedisArgument(h.keys.sent("job-1"))) == .integer(0))
            #expect(try await h.auditDecisions() == [])
            await self.close(worker, redis)
            await h.check.shutdown()
        }
    }

    @Test func aJobClaimedByAReapedWorkerWaitsForItsLeaseThenIsSentOnce() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204) }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base)
            let (worker, redis) = self.idleWorker(h)
            let raw = Array(h.job(1).json.utf8)
            // another worker claimed it (its send may be in flight) and was reaped; this worker got the job
            let before = Int64(Date().timeIntervalSince1970 * 1000)
            try await h.check.send("SET", RedisArgument(h.keys.sent("job-1")), "sending stalled-1", "PX", 5000)
            try await h.check.send("LPUSH", RedisArgument(h.keys.processing(h.configuration.workerID)), RedisArgument(bytes: raw))
            await worker.process(raw, shard: h.keys)
            #expect(fake.recorded.isEmpty)
            let retry = try await h.check.send("ZRANGE", RedisArgument(h.keys.retry), 0, -1, "WITHSCORES").array ?? []
            #expect(retry.first?.bytes == raw)  // deferred unchanged, due when the claim lapses
            let due = Int64(retry.count > 1 ? retry[1].string ?? "" : "") ?? 0
            // due when the claim lapses: set + 5 s (+ 100 ms), however long the worker took to get to it
            #expect(due >= before + 4_900 && due <= before + 7_000, "due \(due - before) ms after")
            #expect(try await h.length(h.keys.processing(h.configuration.workerID)) == 0)
            await self.close(worker, redis)
            // the stalled worker woke up within its lease and finished its send: the deferred copy is skipped
            try await h.check.send("SET", RedisArgument(h.keys.sent("job-1")), "1", "EX", 60)
            try await h.runWorker { try await h.auditDecisions().count == 1 }
            #expect(fake.recorded.isEmpty)
            #expect(try await h.auditDecisions() == ["skipped_sent"])
            await h.check.shutdown()
        }
    }

    @Test func aLapsedClaimIsTakenOverAndTheReplySent() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204) }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base)
            try await h.check.send("SET", RedisArgument(h.keys.sent("job-1")), "sending crashed-1", "PX", 300)
            try await h.enqueue([h.job(1)])
            try await h.runWorker {
                guard fake.recorded.count == 1 else { return false }
                return try await h.auditDecisions().count == 1
            }
            #expect(fake.recorded.map(\.headers["webhook-id"]) == ["job-1"])
            #expect(try await h.auditDecisions() == ["sent"])
            #expect(try await h.check.send("GET", RedisArgument(h.keys.sent("job-1"))) == .bulk(Array("1".utf8)))
            await h.check.shutdown()
        }
    }

    @Test func aBatchIsClaimedInOneRoundTripAndEachJobFencedOnItsOwn() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204) }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base)
            let (worker, redis) = self.idleWorker(h)
            let raws = (1...5).map { Array(h.job($0).json.utf8) }
            let processing = RedisArgument(h.keys.processing(h.configuration.workerID))
            // fetched together; job 2 was sent already, job 3's number opted out, job 4 reaped from this worker
            for raw in raws where raw != raws[3] { try await h.check.send("LPUSH", processing, RedisArgument(bytes: raw)) }
            try await h.check.send("SET", RedisArgument(h.keys.sent("job-2")), "1", "EX", 60)
            try await h.check.send("SADD", RedisArgument(h.keys.optOut), RedisArgument(h.job(3).to))
            await worker.process(batch: raws, shard: h.keys)
            #expect(fake.recorded.map(\.headers["webhook-id"]) == ["job-1", "job-5"])
            #expect(try await h.auditDecisions().sorted() == ["sent", "sent", "skipped_optout", "skipped_sent"])
            #expect(try await h.length(h.keys.processing(h.configuration.workerID)) == 0)
            for n in [1, 5] {
                #expect(try await h.check.send("GET", RedisArgument(h.keys.sent("job-\(n)"))) == .bulk(Array("1".utf8)))
            }
            #expect(try await h.check.send("EXISTS", RedisArgument(h.keys.sent("job-4"))) == .integer(0))
            await self.close(worker, redis)
            await h.check.shutdown()
        }
    }

    @Test func aBatchClaimThatAgedPastItsFreshnessIsTakenAgainBeforeItsSend() async throws {
        // job 1's send takes 3 s, past the 2 s lease of the batch's claims: job 2's lapsed meanwhile and another worker
        // claimed it; the claim taken again before job 2's send sees that and defers it
        let fake = FakeProvider { recorded, _ in .init(status: 204, delay: recorded.headers["webhook-id"] == "job-1" ? .seconds(3) : .zero) }
        try await fake.run { base in
            var harness = try WorkerHarness(provider: .http, baseURL: base)
            harness.configuration.sendLeaseSeconds = 2
            let h = harness
            let (worker, redis) = self.idleWorker(h)
            let raws = (1...2).map { Array(h.job($0).json.utf8) }
            let processing = RedisArgument(h.keys.processing(h.configuration.workerID))
            for raw in raws { try await h.check.send("LPUSH", processing, RedisArgument(bytes: raw)) }
            async let processed: Void = worker.process(batch: raws, shard: h.keys)
            let started = ContinuousClock.now
            repeat {  // the batch's claim of job 2 lapses after 2 s, during job 1's send
                try await Task.sleep(for: .milliseconds(50))
            } while try await h.check.send("EXISTS", RedisArgument(h.keys.sent("job-2"))) == .integer(1)
                && ContinuousClock.now - started < .milliseconds(2800)
            try await h.check.send("SET", RedisArgument(h.keys.sent("job-2")), "sending other-1", "PX", 10_000)
            await processed
            #expect(fake.recorded.map(\.headers["webhook-id"]) == ["job-1"])
            let retry = try await h.check.send("ZRANGE", RedisArgument(h.keys.retry), 0, -1).array ?? []
            #expect(retry.compactMap(\.bytes) == [raws[1]])  // deferred until the other worker's claim lapses
            await self.close(worker, redis)
            await h.check.shutdown()
        }
    }

    @Test func aFailedSendReleasesItsClaim() async throws {
        let fake = FakeProvider { _, _ in .init(status: 500) }
        try await fake.run { base in
            var harness = try WorkerHarness(provider: .http, baseURL: base)
            harness.configuration.backoff = Backoff(baseSeconds: 30, capSeconds: 30, maxAttempts: 3)
            let h = harness
            try await h.enqueue([h.job(1)])
            try await h.runWorker { try await h.auditDecisions() == ["retry"] }
            #expect(fake.recorded.count == 1)
            #expect(try await h.check.send("EXISTS", RedisArgument(h.keys.sent("job-1"))) == .integer(0))
            await h.check.shutdown()
        }
    }

    @Test func anOrphanLeftByALostFetchReplyGoesBackToTheQueue() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204) }
        try await fake.run { base in
            var harness = try WorkerHarness(provider: .http, baseURL: base)
            harness.configuration.redis.commandTimeout = .milliseconds(300)
            let h = harness
            // Redis moved it into this worker's list but the fetch never saw the reply: no loop holds it
            try await h.check.send("LPUSH", RedisArgument(h.keys.processing(h.configuration.workerID)), RedisArgument(h.job(1).json))
            let started = ContinuousClock.now
            try await h.runWorker(timeout: .seconds(15)) { fake.recorded.count == 1 }
            let elapsed = ContinuousClock.now - started
            #expect(fake.recorded.map(\.headers["webhook-id"]) == ["job-1"])
            #expect(elapsed >= .seconds(1), "requeued only after two scans, \(elapsed)")
            #expect(try await h.length(h.keys.processing(h.configuration.workerID)) == 0)
            await h.check.shutdown()
        }
    }

    @Test func anEventOrphanedByALostFetchReplyIsDeliveredWithoutARestart() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204) }
        try await fake.run { base in
            var harness = try WorkerHarness(provider: .http, baseURL: base)
            harness.configuration.redis.commandTimeout = .milliseconds(300)
            let h = harness
            let processing = h.keys.eventsProcessing("app", h.configuration.workerID)
            try await h.check.send("LPUSH", RedisArgument(processing), RedisArgument(bytes: EventDeliveryTests.event(9).entry))
            try await h.runWorker(events: EventDeliveryTests.delivery(base), timeout: .seconds(15)) { fake.recorded.count == 1 }
            #expect(fake.recorded.map(\.headers["webhook-id"]) == ["evt_test_9"])
            #expect(try await h.length(processing) == 0)
            await h.check.shutdown()
        }
    }
}
