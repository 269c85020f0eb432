import Foundation
import Logging
import RedisClient
import Testing
import TestSupport

@Suite struct SentinelConfigurationTests {
    @Test func readsSentinelsFromTheEnvironment() throws {
        let c = try RedisConfiguration(environment: [
            "REDIS_URL": "redis://:pw@ignored:6379/2", "REDIS_SENTINELS": "127.0.0.1:26379, 10.0.0.2:26380",
            "REDIS_MASTER_NAME": "smshook",
        ])
        #expect(c.sentinels == [.tcp(host: "127.0.0.1", port: 26379), .tcp(host: "10.0.0.2", port: 26380)])
        #expect(c.masterName == "smshook")
        #expect(c.password == "pw")
        #expect(c.database == 2)
        #expect(throws: RedisError.self) { try RedisConfiguration(environment: ["REDIS_SENTINELS": "127.0.0.1:26379"]) }
        #expect(throws: RedisError.self) { try RedisConfiguration(environment: ["REDIS_SENTINELS": "nohost", "REDIS_MASTER_NAME": "x"]) }
    }
}

/// Primary + replica + 3 sentinels on loopback: the client finds the primary and follows a failover.
@Suite(.enabled(if: TestRedis.enabled, "needs redis-server: run `make test`"))
struct SentinelFailoverTests {
    @Test func followsAFailoverWithoutARestart() async throws {
        let primary = try RedisServer(arguments: ["--repl-diskless-sync-delay", "0"])
        let replica = try RedisServer(arguments: ["--replicaof", "127.0.0.1", "\(primary.port)"])
        let sentinels = try (0..<3).map { _ in try SentinelServer(masterName: "mymaster", primaryPort: primary.port) }
        var configuration = try RedisConfiguration(url: "redis://127.0.0.1:1")  // the address comes from the sentinels
        configuration.sentinels = sentinels.map { .tcp(host: "127.0.0.1", port: $0.port) }
        configuration.masterName = "mymaster"
        configuration.connectTimeout = .milliseconds(300)
        configuration.commandTimeout = .milliseconds(500)
        let client = RedisClient(configuration: configuration, logger: Logger(label: "test.sentinel"))

        try await client.send("SET", "before", "1")
        let direct = try makeClient(primary.url)
        #expect(try await direct.send("GET", "before") == .bulk(Array("1".utf8)))
        await direct.shutdown()
        // the replica has caught up before the primary dies
        let replicaClient = try makeClient(replica.url)
        var synced = false
        for _ in 0..<250 where !synced {
            synced = try await replicaClient.send("GET", "before") == .bulk(Array("1".utf8))
            if !synced { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(synced)

        primary.stop()
        let killed = ContinuousClock.now
        var recovered = false
        while !recovered && ContinuousClock.now - killed < .seconds(20) {
            recovered = (try? await client.send("SET", "after", "2")) == .status("OK")
            if !recovered { try await Task.sleep(for: .milliseconds(100)) }
        }
        let outage = ContinuousClock.now - killed
        print("sentinel failover: writes resumed \(outage) after the primary was killed")
        #expect(recovered)
        #expect(try await replicaClient.send("ROLE").array?.first == .bulk(Array("master".utf8)))
        #expect(try await replicaClient.send("GET", "after") == .bulk(Array("2".utf8)))
        #expect(try await replicaClient.send("GET", "before") == .bulk(Array("1".utf8)))
        await replicaClient.shutdown()
        withExtendedLifetime((sentinels, primary, replica)) {}
        await client.shutdown()
    }
}
