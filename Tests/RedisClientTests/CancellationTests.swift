import Foundation
import Logging
import RedisClient
import Testing
import TestSupport

@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct CancellationTests {
    @Test func aCancelledCallerIsAnsweredAtOnceAndTheConnectionStaysUsable() async throws {
        let client = try makeClient()  // one connection: the blocked command and the next ones share it
        let id = try await client.send("CLIENT", "ID")
        let key = TestRedis.uniquePrefix("cancel")
        let started = ContinuousClock.now
        let blocked = Task { try await client.send("BLPOP", RedisArgument(key), "4") }
        try await Task.sleep(for: .milliseconds(100))
        blocked.cancel()
        let result = await blocked.result
        let answeredAfter = ContinuousClock.now - started
        #expect(throws: CancellationError.self) { try result.get() }
        // (the wide margin absorbs a loaded machine; the point is not waiting for the 4 s block)
        #expect(answeredAfter < .milliseconds(2500), "answered after \(answeredAfter), the BLPOP blocks for 4 s")
        // the BLPOP's reply (nil after 4 s) is read and dropped; the next reply goes to its own caller
        #expect(try await client.send("ECHO", "after") == .bulk(Array("after".utf8)))
        #expect(try await client.send("CLIENT", "ID") == id)  // same connection, never reset
        await client.shutdown()
    }

    @Test func aCallerCancelledBeforeSendingIsNotSent() async throws {
        let client = try makeClient()
        let key = TestRedis.uniquePrefix("cancel-first")
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.send("SET", RedisArgument(key), "x")
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await client.send("EXISTS", RedisArgument(key)) == .integer(0))
        await client.shutdown()
    }
}
