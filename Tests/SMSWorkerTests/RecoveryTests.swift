import Foundation
import RedisClient
import SMSCore
import SMSWorker
import Synchronization
import TestSupport
import Testing

@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct RecoveryTests {
    @Test func reaperReturnsJobsOfADeadWorkerAndPoisonPillsGoDead() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204) }
        try await fake.run { base in
            var h = try WorkerHarness(provider: .http, baseURL: base)
            h.configuration.maxRecoveries = 3
            // a worker that died holding two jobs: registered, no heartbeat
            var poison = h.job(2)
            poison.recovered = 3
            try await h.check.send("SADD", RedisArgument(h.space.workers), "crashed-1")
            try await h.check.send("LPUSH", RedisArgument(h.keys.processing("crashed-1")), RedisArgument(h.job(1).json), RedisArgument(poison.json))
            let harness = h
            try await harness.runWorker { try await harness.check.send("EXISTS", RedisArgument(harness.keys.sent("job-1"))) == .integer(1) }
            #expect(fake.recorded.map(\.headers["webhook-id"]) == ["job-1"])
            #expect(try await h.length(h.keys.processing("crashed-1")) == 0)
            #expect(try await h.check.send("SISMEMBER", RedisArgument(h.space.workers), "crashed-1") == .integer(0))
            let dead = try await h.check.send("LRANGE", RedisArgument(h.keys.dead), 0, -1).array ?? []
            #expect(dead.count == 1)
            let record = try JSONParser.parse(dead.first?.bytes ?? [])
            #expect(record["job"]?["id"] == .string("job-2"))
            #expect(record["error"]?.stringValue?.contains("poison pill") == true)
            await h.check.shutdown()
        }
    }

    @Test func liveWorkersAreNotReaped() async throws {
        let h = try WorkerHarness()
        try await h.check.send("SADD", RedisArgument(h.space.workers), "alive-1")
        try await h.check.send("SET", RedisArgument(h.space.heartbeat("alive-1")), "x", "EX", 30)
        try await h.check.send("LPUSH", RedisArgument(h.keys.processing("alive-1")), RedisArgument(h.job(1).json))
        let started = ContinuousClock.now
        try await h.runWorker { ContinuousClock.now - started > .seconds(1) }
        #expect(try await h.length(h.keys.processing("alive-1")) == 1)
        await h.check.shutdown()
    }

    @Test func sharedRateLimitHoldsAcrossThreeWorkers() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204) }
        try await fake.run { base in
            var h = try WorkerHarness(provider: .http, baseURL: base)
            h.configuration.sendRate = 5
            h.configuration.sendBurst = 1
            try await h.enqueue((0..<15).map { h.job($0) })
            let harness = h
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<3 {
                    group.addTask {
                        try await harness.runWorker(id: "rate-\(w)") { fake.recorded.count >= 15 }
                    }
                }
                try await group.waitForAll()
            }
            let times = fake.recorded.map(\.at).sorted()
            #expect(times.count == 15)
            let span = times.last! - times.first!
            // 15 sends at 5/s: even if the first arrivals bunch up (connection set-up), no more than 6 fit in any
            // second, so the 15 take at least (15 - 6) / 5 s
            #expect(span >= .milliseconds(1800), "span \(span)")
            // no one-second window holds more than 5 (+1 for the window edge)
            for (i, t) in times.enumerated() {
                let inWindow = times[i...].prefix { $0 - t < .seconds(1) }.count
                #expect(inWindow <= 6)
            }
            print("rate limit: 15 sends by 3 workers at 5/s took \(span)")
            await h.check.shutdown()
        }
    }
}
