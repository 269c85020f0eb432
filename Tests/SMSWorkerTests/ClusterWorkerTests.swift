import Foundation
import RedisClient
import SMSCore
import SMSStore
import SMSWorker
import Synchronization
import TestSupport
import Testing

/// The worker on a 3-primary Redis Cluster with 64 shards: it drains every shard, and retries, dead letters and the
/// reaper work shard by shard.
@Suite(.enabled(if: TestRedis.enabled, "needs redis-server: run `make test`"))
struct ClusterWorkerTests {
    @Test func jobsOnEveryShardAreSentOnceAndRetriedInTheirShard() async throws {
        let seen = Mutex<Set<String>>([])
        let fake = FakeProvider { request, _ in
            // the first attempt of every third job fails: its retry stays in its shard's retry set
            let id = request.headers["webhook-id"] ?? ""
            let first = seen.withLock { $0.insert(id).inserted }
            let n = Int(id.dropFirst("job-".count)) ?? 0
            return n % 3 == 0 && first ? .init(status: 500) : .init(status: 204)
        }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base, cluster: true)
            let jobs = (0..<30).map { h.job($0) }
            #expect(Set(jobs.map { h.shard($0).index }).count > 15)
            try await h.enqueue(jobs)
            try await h.runWorker { try await h.auditDecisions().filter { $0 == "sent" }.count == 30 }
            #expect(Set(fake.recorded.compactMap(\.headers["webhook-id"])).count == 30)
            #expect(fake.recorded.count == 40)  // 30 sends + 10 failed first attempts
            #expect(try await h.auditDecisions().sorted() == Array(repeating: "retry", count: 10) + Array(repeating: "sent", count: 30))
            for job in jobs {
                #expect(try await h.check.send("GET", RedisArgument(h.shard(job).sent(job.id))).string == "1")
            }
            for shard in h.space.shards {
                #expect(try await h.length(shard.processing(h.configuration.workerID)) == 0)
                #expect(try await h.length(shard.replies) == 0)
            }
            await h.check.shutdown()
        }
    }

    @Test func theReaperReturnsADeadWorkersJobsOnEveryShard() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204) }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base, cluster: true)
            let jobs = (0..<12).map { h.job(100 + $0) }
            try await h.check.send("SADD", RedisArgument(h.space.workers), "crashed-cl")
            for job in jobs {
                try await h.check.send("LPUSH", RedisArgument(h.shard(job).processing("crashed-cl")), RedisArgument(job.json))
            }
            try await h.runWorker { try await h.auditDecisions().count == 12 }
            #expect(Set(fake.recorded.compactMap(\.headers["webhook-id"])) == Set(jobs.map(\.id)))
            #expect(fake.recorded.count == 12)
            for job in jobs { #expect(try await h.length(h.shard(job).processing("crashed-cl")) == 0) }
            #expect(try await h.check.send("SISMEMBER", RedisArgument(h.space.workers), "crashed-cl") == .integer(0))
            await h.check.shutdown()
        }
    }

    @Test func deadJobsAreListedAndReplayedAcrossShards() async throws {
        let fake = FakeProvider { _, _ in .init(status: 400, body: "bad number") }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base, cluster: true)
            let jobs = (0..<6).map { h.job(200 + $0) }
            try await h.enqueue(jobs)
            try await h.runWorker { try await h.auditDecisions().count == 6 }
            let dead = DeadJobs(redis: h.check, keys: h.space)
            #expect(try await dead.list(count: 100).count == 6)
            #expect(try await dead.replay(id: "job-203") == 1)
            #expect(try await h.length(h.shard(jobs[3]).replies) == 1)  // back on its own shard's queue
            #expect(try await dead.purge() == 5)
            #expect(try await dead.list(count: 100).isEmpty)
            await h.check.shutdown()
        }
    }

    /// Polling, not blocking: a job queued on an idle shard of an idle worker is still picked up promptly.
    @Test func aJobOnAnIdleShardIsPickedUpPromptly() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204) }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base, cluster: true)
            let job = h.job(300)
            let queued = Mutex<ContinuousClock.Instant?>(nil)
            let enqueue = Task {
                try await Task.sleep(for: .seconds(1.5))  // the worker has been idle long enough to poll at its slowest
                queued.withLock { $0 = .now }
                try await h.enqueue([job])
            }
            try await h.runWorker { !fake.recorded.isEmpty }
            try await enqueue.value
            let pickup = try #require(fake.recorded.first?.at) - (try #require(queued.withLock { $0 }))
            print("cluster worker: a job on an idle shard was sent \(pickup) after it was queued (poll pause at most \(h.configuration.pollMaxMilliseconds) ms)")
            // the bound is the poll pause (200 ms; `make bench` measures it on a quiet machine: ~110 ms); the margin
            // absorbs the clusters other suites start meanwhile
            #expect(pickup < .seconds(6))
            await h.check.shutdown()
        }
    }
}
