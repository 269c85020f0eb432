import Foundation
import Logging
import RedisClient
import Testing
import TestSupport

/// Tests that need a server of their own: restarts, passwords, ACL users, a closed port.
@Suite(.enabled(if: TestRedis.enabled, "needs redis-server: run `make test`"))
struct RedisServerTests {
    @Test func survivesServerRestart() async throws {
        let server = try RedisServer()
        let client = try makeClient(server.url)
        try await client.send("SET", "k", "before")
        server.stop()
        await #expect(throws: RedisError.self) { try await client.send("GET", "k") }
        try server.start()
        var reply: RedisReply?
        for _ in 0..<40 where reply == nil {  // backoff is capped at 1 s
            reply = try? await client.send("PING")
            if reply == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(reply == .status("PONG"))
        try await client.send("SET", "k", "after")
        #expect(try await client.send("GET", "k") == .bulk(Array("after".utf8)))
        withExtendedLifetime(server) {}
        await client.shutdown()
    }

    @Test func restartWhileIdleIsInvisibleToTheNextCall() async throws {
        let server = try RedisServer()
        let client = try makeClient(server.url)
        #expect(try await client.send("PING") == .status("PONG"))
        server.stop()
        try server.start()
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await client.send("PING") == .status("PONG"))
        withExtendedLifetime(server) {}
        await client.shutdown()
    }

    @Test func slowReplyTimesOutAndConnectionRecovers() async throws {
        let server = try RedisServer(arguments: ["--enable-debug-command", "yes"])
        let client = try makeClient(server.url) { $0.commandTimeout = .milliseconds(200) }
        #expect(try await client.send("PING") == .status("PONG"))  // connected: only the reply is timed below
        let started = ContinuousClock.now
        do {
            try await client.send("DEBUG", "SLEEP", "3")
            Issue.record("DEBUG SLEEP should have timed out")
        } catch let error as RedisError {
            #expect(error.code == .timeout)
        }
        // answered by the 200 ms timeout, long before the server's reply (3 s); the margin absorbs a loaded machine
        #expect(ContinuousClock.now - started < .milliseconds(2500))
        try await Task.sleep(for: .milliseconds(3000))
        #expect(try await client.send("PING") == .status("PONG"))
        withExtendedLifetime(server) {}
        await client.shutdown()
    }

    @Test func passwordAndACLUser() async throws {
        let server = try RedisServer(arguments: ["--requirepass", "s3cret"])
        let admin = try makeClient("redis://:s3cret@127.0.0.1:\(server.port)/2")
        #expect(try await admin.send("SET", "db-check", "in-db-2") == .status("OK"))
        try await admin.send("ACL", "SETUSER", "alice", "on", ">alicepw", "~*", "+@all")

        let alice = try makeClient("redis://alice:alicepw@127.0.0.1:\(server.port)/2")
        #expect(try await alice.send("GET", "db-check") == .bulk(Array("in-db-2".utf8)))

        for url in ["redis://:wrong@127.0.0.1:\(server.port)", "redis://alice:wrong@127.0.0.1:\(server.port)"] {
            let bad = try makeClient(url)
            do {
                try await bad.send("PING")
                Issue.record("wrong password accepted for \(url)")
            } catch let error as RedisError {
                #expect(error.code == .authenticationFailed)
                #expect(error.message.contains("WRONGPASS"))
                #expect(!error.message.contains("wrong@"))
            }
            await bad.shutdown()
        }

        let none = try makeClient("redis://127.0.0.1:\(server.port)")
        await #expect(throws: RedisError.self) { try await none.send("GET", "db-check") }
        withExtendedLifetime(server) {}
        await none.shutdown()
        await alice.shutdown()
        await admin.shutdown()
    }

    @Test func closedPortFailsFastWithTypedError() async throws {
        let closed = try ClosedPort()
        let client = try makeClient("redis://127.0.0.1:\(closed.port)") { $0.connectTimeout = .seconds(60) }
        let started = ContinuousClock.now
        do {
            try await client.send("PING")
            Issue.record("connected to a closed port")
        } catch let error as RedisError {
            #expect(error.code == .connectionFailed)
            #expect(error.isUnavailable)
        }
        // refused at once, not after the 60 s connect timeout (the wide margin absorbs a loaded machine)
        #expect(ContinuousClock.now - started < .seconds(20))
        withExtendedLifetime(closed) {}
        await client.shutdown()
    }
}
