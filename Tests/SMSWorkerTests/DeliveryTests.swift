import Foundation
import RedisClient
import SMSCore
import SMSStore
import SMSWorker
import TestSupport
import Testing

@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct DeliveryTests {
    @Test func retryableFailureIsRetriedThenSent() async throws {
        let fake = FakeProvider { _, i in i == 0 ? .init(status: 500, body: "boom") : .init(status: 204) }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base)
            try await h.enqueue([h.job(1)])
            try await h.runWorker { (try await h.auditDecisions()) == ["retry", "sent"] }
            #expect(fake.recorded.count == 2)
            #expect(try await h.auditDecisions() == ["retry", "sent"])
            #expect(try await h.check.send("ZCARD", RedisArgument(h.keys.retry)) == .integer(0))
            await h.check.shutdown()
        }
    }

    @Test func retryAfterWinsWhenLarger() async throws {
        let fake = FakeProvider { _, _ in .init(status: 429, headers: ["Retry-After": "30"]) }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base)
            try await h.enqueue([h.job(1)])
            let before = Date().timeIntervalSince1970
            try await h.runWorker { (try await h.auditDecisions()) == ["retry"] }
            let scored = try await h.check.send("ZRANGE", RedisArgument(h.keys.retry), 0, -1, "WITHSCORES").array ?? []
            #expect(scored.count == 2)
            let due = Double(scored.last?.string ?? "0")! / 1000
            #expect(due >= before + 29.9 && due <= Date().timeIntervalSince1970 + 30.1)
            let job = try ReplyJob(json: JSONParser.parse(scored[0].bytes ?? []))
            #expect(job.attempt == 1)
            await h.check.shutdown()
        }
    }

    /// A provider's Retry-After is never trusted beyond a day, and nonsense is ignored: no trap, a finite due time.
    @Test(arguments: [("inf", 0.0), ("1e300", 0), ("-1", 0), ("nan", 0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0), ("99999999999", 86_400)])
    func hostileRetryAfterGivesABoundedRetry(_ header: String, _ expectedWait: Double) async throws {
        let fake = FakeProvider { _, _ in .init(status: 503, headers: ["Retry-After": header]) }
        try await fake.run { base in
            var harness = try WorkerHarness(provider: .http, baseURL: base)
            // the default base: the retry stays in the retry set until it is read (the harness's 50 ms would let the
            // scheduler move it back to the queue first)
            harness.configuration.backoff = Backoff(baseSeconds: 5, capSeconds: 3600, maxAttempts: 10)
            let h = harness
            try await h.enqueue([h.job(1)])
            let before = Date().timeIntervalSince1970
            try await h.runWorker { (try await h.auditDecisions()) == ["retry"] }
            let scored = try await h.check.send("ZRANGE", RedisArgument(h.keys.retry), 0, -1, "WITHSCORES").array ?? []
            let due = try #require(Double(scored.last?.string ?? "")) / 1000
            let wait = due - before
            // the configured backoff (base 5 s by default: 2.5-5 s for the first retry) unless a sane header is larger
            if expectedWait > 0 {
                #expect(wait >= expectedWait - 0.5 && wait <= expectedWait + 5, "\(header): \(wait)")
            } else {
                #expect(wait >= 0 && wait <= 10, "\(header): \(wait)")
            }
            await h.check.shutdown()
        }
    }

    @Test func aRedirectIsNotFollowedAndTheJobIsDead() async throws {
        let fake = FakeProvider { _, _ in .init(status: 302, headers: ["Location": "http://127.0.0.1:1/steal"]) }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base)
            try await h.enqueue([h.job(1)])
            try await h.runWorker { (try await h.auditDecisions()) == ["dead"] }
            #expect(fake.recorded.count == 1)
            #expect(try await h.check.send("LLEN", RedisArgument(h.keys.dead)) == .integer(1))
            await h.check.shutdown()
        }
    }

    @Test func exhaustedRetriesAndPermanentFailuresGoDeadAndReplaySends() async throws {
        let failing = Mutex(true)
        let fake = FakeProvider { r, _ in
            if r.body.contains("job-1") { return .init(status: 503) }  // always retryable: exhausted after 3
            return failing.withLock { $0 } ? .init(status: 400, body: "invalid number") : .init(status: 200)
        }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base)
            try await h.enqueue([h.job(1), h.job(2)])
            try await h.runWorker { try await h.length(h.keys.dead) == 2 }
            #expect(fake.recorded.filter { $0.body.contains("job-1") }.count == 3)
            let dead = try await h.check.send("LRANGE", RedisArgument(h.keys.dead), 0, -1).array ?? []
            let errors = try dead.map { try JSONParser.parse($0.bytes ?? [])["error"]?.stringValue ?? "" }
            #expect(errors.contains { $0.hasPrefix("gave up after 3 attempts") })
            #expect(errors.contains { $0.contains("HTTP 400") })

            failing.withLock { $0 = false }
            #expect(try await DeadJobs(redis: h.check, keys: KeySpace(prefix: h.configuration.keyPrefix)).replay(id: "job-2") == 1)
            #expect(try await h.length(h.keys.dead) == 1)
            try await h.runWorker { try await h.check.send("EXISTS", RedisArgument(h.keys.sent("job-2"))) == .integer(1) }
            #expect(try await h.check.send("EXISTS", RedisArgument(h.keys.sent("job-2"))) == .integer(1))
            await h.check.shutdown()
        }
    }

    @Test func optedOutNumberIsNotSent() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204) }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base)
            try await h.check.send("SADD", RedisArgument(h.keys.optOut), "+15550100001")
            try await h.enqueue([h.job(1, to: "+15550100001"), h.job(2)])
            try await h.runWorker { (try await h.auditDecisions()).count == 2 }
            #expect(fake.recorded.map(\.headers["webhook-id"]) == ["job-2"])
            #expect(Set(try await h.auditDecisions()) == ["skipped_optout", "sent"])
            await h.check.shutdown()
        }
    }

    @Test func sentMarkerPreventsASecondSend() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204) }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base)
            try await h.check.send("SET", RedisArgument(h.keys.sent("job-1")), "1")
            try await h.enqueue([h.job(1)])
            try await h.runWorker { (try await h.auditDecisions()) == ["skipped_sent"] }
            #expect(fake.recorded.isEmpty)
            await h.check.shutdown()
        }
    }
}

import Synchronization
