import Foundation
import Glibc
import RedisClient
import SMSCore
import TestSupport
import Testing

/// The real `smshook worker` binary: SIGKILL mid-drain, SIGTERM drain.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"), .serialized)
struct BinaryWorkerTests {
    static var binary: String {
        ProcessInfo.processInfo.environment["SMSHOOK_BIN"] ?? RepoFile.path(".build/debug/smshook")
    }

    static func startWorker(prefix: String, base: String, concurrency: Int = 8, drain: Int = 25) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: self.binary)
        process.arguments = ["worker"]
        process.environment = [
            "REDIS_URL": TestRedis.url, "SMSHOOK_KEY_PREFIX": prefix, "SMSHOOK_PROVIDER": "http",
            "HTTP_PROVIDER_URL": base + "/hook", "HTTP_PROVIDER_SECRET": "s", "SMSHOOK_ALLOW_INSECURE_PROVIDER": "1", "WORKER_CONCURRENCY": String(concurrency),
            "WORKER_HEARTBEAT_TTL": "1", "WORKER_HEARTBEAT_INTERVAL": "0.25", "WORKER_REAP_INTERVAL": "0.25",
            "WORKER_BLOCK_SECONDS": "0.2", "WORKER_DRAIN_SECONDS": String(drain), "LOG_LEVEL": "error",
            // a killed worker's claimed jobs (maybe sent) wait this long before another worker sends them
            "WORKER_SEND_LEASE": "2",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func deliveredIDs(_ fake: FakeProvider) -> [String] { fake.recorded.compactMap { $0.headers["webhook-id"] } }

    @Test func sigkillMidDrainLosesNothing() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204, delay: .milliseconds(10)) }
        try await fake.run { base in
            let h = try WorkerHarness()
            let total = 2000
            try await h.enqueue((0..<total).map { h.job($0) })
            var worker = try Self.startWorker(prefix: h.configuration.keyPrefix, base: base)
            var inFlightAtKills = 0
            for killAt in [300, 800, 1300] {
                let started = ContinuousClock.now
                while fake.recorded.count < killAt && ContinuousClock.now - started < .seconds(30) {
                    try await Task.sleep(for: .milliseconds(5))
                }
                kill(worker.processIdentifier, SIGKILL)
                worker.waitUntilExit()
                // jobs the killed worker held: its processing list, before the reaper returns them
                let lists = try await h.check.send("KEYS", RedisArgument(h.keys.processing("*"))).array ?? []
                for list in lists.compactMap(\.string) {
                    inFlightAtKills += Int(try await h.check.send("LLEN", RedisArgument(list)).int ?? 0)
                }
                worker = try Self.startWorker(prefix: h.configuration.keyPrefix, base: base)
            }
            let started = ContinuousClock.now
            while Set(Self.deliveredIDs(fake)).count < total && ContinuousClock.now - started < .seconds(60) {
                try await Task.sleep(for: .milliseconds(50))
            }
            kill(worker.processIdentifier, SIGTERM)
            worker.waitUntilExit()
            let ids = Self.deliveredIDs(fake)
            let distinct = Set(ids).count
            let duplicates = ids.count - distinct
            print("crash test: \(total) jobs, 3 SIGKILLs, delivered \(distinct) distinct, \(duplicates) duplicates, \(inFlightAtKills) in flight at the kills")
            #expect(distinct == total)
            #expect(duplicates <= inFlightAtKills)
            #expect(worker.terminationStatus == 0)
            await h.check.shutdown()
        }
    }

    @Test func sigtermDrainsAndGivesBackTheRest() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204, delay: .milliseconds(50)) }
        try await fake.run { base in
            let h = try WorkerHarness()
            let total = 200
            try await h.enqueue((0..<total).map { h.job($0) })
            let worker = try Self.startWorker(prefix: h.configuration.keyPrefix, base: base, concurrency: 4, drain: 5)
            let started = ContinuousClock.now
            while fake.recorded.count < 40 && ContinuousClock.now - started < .seconds(30) {
                try await Task.sleep(for: .milliseconds(5))
            }
            let stopAt = ContinuousClock.now
            kill(worker.processIdentifier, SIGTERM)
            worker.waitUntilExit()
            let stopTime = ContinuousClock.now - stopAt
            #expect(worker.terminationReason == .exit)
            #expect(worker.terminationStatus == 0)
            #expect(stopTime < .seconds(5))
            let sent = Set(Self.deliveredIDs(fake))
            let queued = try await h.check.send("LRANGE", RedisArgument(h.keys.replies), 0, -1).array ?? []
            let queuedIDs = Set(try queued.map { try ReplyJob(json: JSONParser.parse($0.bytes ?? [])).id })
            print("sigterm test: stopped in \(stopTime), \(sent.count) sent, \(queuedIDs.count) back in the queue")
            #expect(sent.union(queuedIDs).count == total)
            #expect(sent.isDisjoint(with: queuedIDs))
            let lists = try await h.check.send("KEYS", RedisArgument(h.keys.processing("*"))).array ?? []
            #expect(lists.isEmpty)
            #expect(try await h.check.send("SCARD", RedisArgument(h.space.workers)) == .integer(0))
            await h.check.shutdown()
        }
    }
}
