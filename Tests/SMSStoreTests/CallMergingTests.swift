import Foundation
import Glibc
import RedisClient
import SMSCore
@testable import SMSStore
import Testing
import TestSupport

@Suite struct CallMergingTests {
    // the mutating calls outside `#expect`, which cannot take them
    func take(_ m: inout CallMerging<String, Int>) -> Bool { m.takeSlot() }
    func next(_ m: inout CallMerging<String, Int>) -> [String]? { m.finished() }

    @Test func requestsWaitOnlyWhileEverySlotIsTaken() {
        var m = CallMerging<String, Int>(limit: 2, maxMessages: 10)
        #expect(take(&m) == true)
        #expect(take(&m) == true)
        #expect(take(&m) == false)
        #expect(m.inFlight == 2)
        m.wait("a", key: 1, messages: 1)
        #expect(take(&m) == false)  // a free slot goes to those waiting first
        #expect(next(&m) == ["a"])  // the slot stays taken for the call carrying "a"
        #expect(m.inFlight == 2)
        #expect(next(&m) == nil)
        #expect(next(&m) == nil)
        #expect(m.inFlight == 0)
        #expect(take(&m) == true)
    }

    @Test func aCallCarriesWaitingRequestsInOrderWithinItsLimits() {
        var m = CallMerging<String, Int>(limit: 1, maxMessages: 5)
        #expect(take(&m) == true)
        m.wait("a", key: 1, messages: 2)
        m.wait("b", key: 1, messages: 3)
        m.wait("x", key: 2, messages: 1)  // other settings: never in a call with a, b or c
        m.wait("c", key: 1, messages: 1)  // over 5 messages with a and b: the next call of its key
        m.wait("y", key: 2, messages: 1)
        m.wait("big", key: 2, messages: 50)  // over the limit alone: goes alone
        m.wait("z", key: 2, messages: 1)  // does not overtake "big"
        #expect(next(&m) == ["a", "b"])
        #expect(next(&m) == ["x", "y"])
        #expect(next(&m) == ["c"])
        #expect(next(&m) == ["big"])
        #expect(next(&m) == ["z"])
        #expect(m.waitingCount == 0)
        #expect(next(&m) == nil)
        #expect(m.inFlight == 0)
    }
}

/// Merged calls against a real Redis. The server is paused (SIGSTOP) while requests queue behind a call in flight,
/// so what goes together is known: after SIGCONT, the first call, then the waiting requests in one call.
@Suite(.serialized) struct MergedIngestTests {
    static func entry(_ guid: String, number: String, job: Bool = true) -> IngestScript.Entry {
        let message = InboundMessage(guid: guid, number: number, message: "yes", provider: "smsmobileapi")
        let reply = job ? ReplyJob(id: "j-\(guid)", to: number, body: "ok", inReplyTo: guid, intent: .affirmative, provider: "smsmobileapi", createdAt: "t") : nil
        return IngestScript.Entry(message: message, classification: .init(intent: .affirmative, confidence: 1), job: reply, instance: "i", receivedAt: "t")
    }

    static func calls(_ redis: RedisClient) async throws -> Int {
        let stats = try await redis.send("INFO", "commandstats").string ?? ""
        guard let line = stats.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_evalsha:") }) else { return 0 }
        return Int(line.split(separator: "=")[1].split(separator: ",")[0]) ?? -1
    }

    /// Starts `requests` concurrently on `store` while Redis is paused, waits until all but the first are queued,
    /// resumes Redis and returns each request's outcome (or failure) in order.
    static func queued(
        _ requests: [([IngestScript.Entry], IngestScript.Settings)], store: IngestStore, server: RedisServer
    ) async throws -> [Result<[IngestOutcome], IngestStore.Failure>] {
        server.signal(SIGSTOP)
        return try await withThrowingTaskGroup(of: (Int, Result<[IngestOutcome], IngestStore.Failure>).self) { group in
            for (i, (entries, settings)) in requests.enumerated() {
                group.addTask {
                    do throws(IngestStore.Failure) {
                        return (i, .success(try await store.store(entries, rejected: [], settings: settings)))
                    } catch {
                        return (i, .failure(error))
                    }
                }
                if i == 0 { try await Task.sleep(for: .milliseconds(50)) }  // the first takes the slot
            }
            for _ in 0..<500 where store.merging.waiting(shard: 0) < requests.count - 1 {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(store.merging.waiting(shard: 0) == requests.count - 1)
            server.signal(SIGCONT)
            var results = [Result<[IngestOutcome], IngestStore.Failure>?](repeating: nil, count: requests.count)
            for try await (i, result) in group { results[i] = result }
            return results.map { $0! }
        }
    }

    @Test func waitingRequestsShareOneCallAndEachGetsItsOwnOutcomes() async throws {
        let server = try RedisServer()
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.url), logger: .init(label: "test"))
        let keys = KeySpace(prefix: TestRedis.uniquePrefix("merge"))
        let store = IngestStore(redis: redis, keys: keys, callsInFlight: 1)
        try await redis.load(IngestScript.script(for: .init()))
        // 12 requests: g0..g9 once each, g3 and g7 again in later requests and twice within the last one
        var requests = (0..<10).map { n in ([Self.entry("g\(n)", number: "+1555000\(n)")], IngestScript.Settings()) }
        requests.append(([Self.entry("g3", number: "+15550003")], .init()))
        requests.append(([Self.entry("g7", number: "+15550007"), Self.entry("new", number: "+15559999"), Self.entry("g7", number: "+15550007")], .init()))
        let before = try await Self.calls(redis)
        let results = try await Self.queued(requests, store: store, server: server)
        #expect(try await Self.calls(redis) - before == 2)  // the first request's call, then the other 11 together
        for n in 0..<10 { #expect(try results[n].get() == [.queued]) }
        #expect(try results[10].get() == [.duplicate])
        #expect(try results[11].get() == [.duplicate, .queued, .duplicate])
        #expect(try await redis.send("XLEN", RedisArgument(keys.shards[0].audit)).int == 11)
        #expect(try await redis.send("LLEN", RedisArgument(keys.shards[0].replies)).int == 11)
        await redis.shutdown()
    }

    @Test func requestsWithOtherSettingsGoInTheirOwnCall() async throws {
        let server = try RedisServer()
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.url), logger: .init(label: "test"))
        let store = IngestStore(redis: redis, keys: KeySpace(prefix: TestRedis.uniquePrefix("merge")), callsInFlight: 1)
        var strict = IngestScript.Settings()
        strict.maxRepliesPerWindow = 1
        try await redis.load(IngestScript.script(for: .init()))
        try await redis.load(IngestScript.script(for: strict))
        // one number per settings, 4 messages each, alternating: the loop guard of each set must hold
        let requests = (0..<8).map { n in
            n % 2 == 0
                ? ([Self.entry("a\(n)", number: "+15551110000")], IngestScript.Settings())
                : ([Self.entry("b\(n)", number: "+15552220000")], strict)
        }
        let before = try await Self.calls(redis)
        let results = try await Self.queued(requests, store: store, server: server)
        #expect(try await Self.calls(redis) - before == 3)  // the first; then the 3 others of its settings; then the 4 strict
        let standard = try stride(from: 0, to: 8, by: 2).map { try results[$0].get()[0] }
        let limited = try stride(from: 1, to: 8, by: 2).map { try results[$0].get()[0] }
        #expect(standard == [.queued, .queued, .queued, .suppressedRate])
        #expect(limited == [.queued, .suppressedRate, .suppressedRate, .suppressedRate])
        await redis.shutdown()
    }

    /// A merged call that fails fails every request it carries, each with the error, and frees its slot: the next
    /// request is stored as usual.
    @Test func aFailedCallFailsEveryRequestItCarriesAndFreesItsSlot() async throws {
        let server = try RedisServer()
        var configuration = try RedisConfiguration(url: server.url)
        configuration.commandTimeout = .milliseconds(300)
        let redis = RedisClient(configuration: configuration, logger: .init(label: "test"))
        let store = IngestStore(redis: redis, keys: KeySpace(prefix: TestRedis.uniquePrefix("merge")), callsInFlight: 1)
        try await redis.load(IngestScript.script(for: .init()))
        server.signal(SIGSTOP)
        let results = try await withThrowingTaskGroup(of: Result<[IngestOutcome], IngestStore.Failure>.self) { group in
            for n in 0..<6 {
                group.addTask {
                    do throws(IngestStore.Failure) {
                        return .success(try await store.store([Self.entry("f\(n)", number: "+1555333000\(n)")], rejected: [], settings: .init()))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var all: [Result<[IngestOutcome], IngestStore.Failure>] = []
            for try await result in group { all.append(result) }
            return all
        }
        server.signal(SIGCONT)
        #expect(results.count == 6)
        for result in results {
            guard case .failure(.unavailable) = result else {
                Issue.record("expected unavailable, got \(result)")
                continue
            }
        }
        #expect(store.merging.waiting(shard: 0) == 0)
        // the connection recovers after its timeout; the slot is free again
        var stored: [IngestOutcome] = []
        for _ in 0..<50 where stored.isEmpty {
            stored = (try? await store.store([Self.entry("after", number: "+15553339999")], rejected: [], settings: .init())) ?? []
            if stored.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(stored == [.queued])
        await redis.shutdown()
    }
}
