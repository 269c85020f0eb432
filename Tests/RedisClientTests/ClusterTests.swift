import Foundation
import Logging
@testable import RedisClient
import Testing
import TestSupport

@Suite struct ClusterRoutingTests {
    @Test func slotsMatchRedis() {
        #expect(RedisClusterSlot.of("123456789") == 12739)  // the CRC16 check value 0x31C3
        #expect(RedisClusterSlot.of("foo") == 12182)
        #expect(RedisClusterSlot.of("{user1000}.following") == RedisClusterSlot.of("{user1000}.followers"))
        #expect(RedisClusterSlot.of("smshook:{7}:dedup:a") == RedisClusterSlot.of("7"))
        #expect(RedisClusterSlot.of("foo{}{bar}") == RedisClusterSlot.of(Array("foo{}{bar}".utf8)))  // empty tag: whole key
        #expect(RedisClusterSlot.of("foo{{bar}}zap") == RedisClusterSlot.of("{bar"))
        #expect(RedisClusterSlot.of("") == 0)
    }

    @Test func commandsAreRoutedByTheirFirstKey() {
        #expect(RedisCommand("GET", "k").routingKey == ArraySlice(Array("k".utf8)))
        #expect(RedisCommand("evalsha", "abc", "2", "k1", "k2", "a").routingKey == ArraySlice(Array("k1".utf8)))
        #expect(RedisCommand("EVALSHA", "abc", "0", "a").routingKey == nil)
        #expect(RedisCommand("PING").routingKey == nil)
        #expect(RedisCommand("SCRIPT", "LOAD", "return 1").routingKey == nil)
        #expect(RedisCommand("MULTI").routingKey == nil)
        #expect(RedisCommand(encoded: Array("*2\r\n$3\r\nGET\r\n$99\r\nk\r\n".utf8)).routingKey == nil)  // cut short
        #expect(RedisCommand(encoded: Array("garbage".utf8)).routingKey == nil)
    }

    @Test func readsRedirects() {
        #expect(RedisRedirect(error: "MOVED 3999 127.0.0.1:6381", askedHost: "x") == .moved(slot: 3999, to: .tcp(host: "127.0.0.1", port: 6381)))
        #expect(RedisRedirect(error: "ASK 1 :7000", askedHost: "10.0.0.1") == .ask(slot: 1, to: .tcp(host: "10.0.0.1", port: 7000)))
        #expect(RedisRedirect(error: "MOVED 2 ::1:7000", askedHost: "x") == .moved(slot: 2, to: .tcp(host: "::1", port: 7000)))
        #expect(RedisRedirect(error: "TRYAGAIN Multiple keys request during rehashing of slot", askedHost: "x") == .tryAgain)
        #expect(RedisRedirect(error: "MOVED 99999 127.0.0.1:1", askedHost: "x") == nil)
        #expect(RedisRedirect(error: "MOVED 1 127.0.0.1:0", askedHost: "x") == nil)
        #expect(RedisRedirect(error: "ERR wrong", askedHost: "x") == nil)
    }

    @Test func readsTheSlotMap() throws {
        func node(_ host: String, _ port: Int64) -> RedisReply { .array([.bulk(Array(host.utf8)), .integer(port), .bulk(Array("id".utf8))]) }
        let reply = RedisReply.array([
            .array([.integer(0), .integer(8191), node("127.0.0.1", 7000), node("127.0.0.1", 7003)]),
            .array([.integer(8192), .integer(16383), node("", 7001)]),
        ])
        let map = try RedisClusterMap(slots: reply, askedHost: "10.1.1.1")
        #expect(map.primary(forSlot: 0) == .tcp(host: "127.0.0.1", port: 7000))
        #expect(map.primary(forSlot: 16383) == .tcp(host: "10.1.1.1", port: 7001))
        #expect(map.coversAllSlots)
        #expect(map.slotsPerPrimary[.tcp(host: "127.0.0.1", port: 7000)] == 8192)
        #expect(throws: RedisError.self) { try RedisClusterMap(slots: .array([.array([.integer(5), .integer(99999), node("h", 1)])]), askedHost: "") }
        #expect(throws: RedisError.self) { try RedisClusterMap(slots: .status("OK"), askedHost: "") }
    }

    @Test func readsClusterNodesFromTheEnvironment() throws {
        let c = try RedisConfiguration(environment: [
            "REDIS_URL": "rediss://u:pw@ignored:6379", "REDIS_CLUSTER_NODES": "127.0.0.1:7000, [::1]:7001",
        ])
        #expect(c.clusterNodes == [.tcp(host: "127.0.0.1", port: 7000), .tcp(host: "::1", port: 7001)])
        #expect(c.tls != nil && c.password == "pw")
        #expect(!c.redactedURL.contains("pw"))
        #expect(throws: RedisError.self) { try RedisConfiguration(environment: ["REDIS_CLUSTER_NODES": "nohost"]) }
        #expect(throws: RedisError.self) {
            try RedisConfiguration(environment: ["REDIS_URL": "redis://h:1/3", "REDIS_CLUSTER_NODES": "127.0.0.1:7000"])
        }
    }
}

/// A real 3-primary, 3-replica cluster on loopback.
@Suite(.enabled(if: TestRedis.enabled, "needs redis-server: run `make test`"))
struct ClusterClientTests {
    let logger = Logger(label: "test.cluster")

    @Test func routesEveryKeyToItsPrimaryAndLoadsScriptsPerNode() async throws {
        let cluster = try TestCluster.shared()
        let client = RedisClient(configuration: try cluster.configuration(connections: 2), logger: self.logger)
        defer { Task { await client.shutdown() } }
        let prefix = TestRedis.uniquePrefix("cluster")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<300 { group.addTask { try await client.send("SET", RedisArgument("\(prefix):\(i)"), RedisArgument(i)) } }
            try await group.waitForAll()
        }
        for i in stride(from: 0, to: 300, by: 37) {
            #expect(try await client.send("GET", RedisArgument("\(prefix):\(i)")).string == "\(i)")
        }
        let primaries = try await client.primaries()
        #expect(primaries.count == 3)
        #expect(primaries.map(\.slots).reduce(0, +) == 16384)
        // the keys really are spread: every primary holds some
        let counts = try await client.onEachPrimary(RedisCommand("DBSIZE")).map { $0.int ?? 0 }
        #expect(counts.count == 3 && counts.allSatisfy { $0 > 0 })
        // a script runs on whichever primary owns its keys; each loads it on NOSCRIPT by itself
        let script = RedisScript("return redis.call('INCR', KEYS[1]) .. ':' .. ARGV[1] -- \(prefix)")
        for tag in ["a", "b", "c", "d", "e", "f"] {
            let reply = try await client.evaluate(script, keys: [RedisArgument("\(prefix):{\(tag)}:n")], arguments: ["x"])
            #expect(reply.string == "1:x")
        }
        #expect(try await client.isLoaded(script))
        // keys of one hash tag share a slot: a transaction over them works; across slots Redis refuses it
        let tagged = try await client.pipeline([
            RedisCommand("MULTI"), RedisCommand("SET", RedisArgument("\(prefix):{t}:1"), "a"),
            RedisCommand("SET", RedisArgument("\(prefix):{t}:2"), "b"), RedisCommand("EXEC"),
        ])
        #expect(tagged.last?.array?.count == 2)
        await #expect(throws: RedisError.self) {
            try await client.send("MSET", RedisArgument("\(prefix):{x}:1"), "a", RedisArgument("\(prefix):{y}:1"), "b")
        }
    }

    /// A slot moved under the client: the stale map sends it to the old owner, which answers MOVED; ASK while the
    /// slot is half migrated.
    @Test func followsMovedAndAsk() async throws {
        let cluster = try RedisClusterServer(replicas: 0)
        let client = RedisClient(configuration: try cluster.configuration(), logger: self.logger)
        defer { Task { await client.shutdown() } }
        let key = "moving-key"
        let slot = RedisClusterSlot.of(key)
        try await client.send("SET", RedisArgument(key), "v1")
        let ids = try cluster.nodes.map { try runTool("redis-cli", ["-p", "\($0.port)", "CLUSTER", "MYID"]).trimmingCharacters(in: .whitespacesAndNewlines) }
        let sourcePort = try await Self.owner(of: slot, cluster)
        let primaries = cluster.primaryPorts()
        let targetPort = primaries.first { $0 != sourcePort }!
        let source = ids[cluster.nodes.firstIndex { $0.port == sourcePort }!]
        let target = ids[cluster.nodes.firstIndex { $0.port == targetPort }!]
        // half-way: IMPORTING on the target, MIGRATING on the source, a second key moved already
        let second = "{\(key)}:second"
        try await client.send("SET", RedisArgument(second), "v2")
        try runTool("redis-cli", ["-p", "\(targetPort)", "CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", source])
        try runTool("redis-cli", ["-p", "\(sourcePort)", "CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", target])
        try runTool("redis-cli", ["-p", "\(sourcePort)", "MIGRATE", "127.0.0.1", "\(targetPort)", "", "0", "5000", "KEYS", second])
        #expect(try await client.send("GET", RedisArgument(second)).string == "v2")  // via ASK
        #expect(try await client.send("GET", RedisArgument(key)).string == "v1")  // still on the source
        try runTool("redis-cli", ["-p", "\(sourcePort)", "MIGRATE", "127.0.0.1", "\(targetPort)", "", "0", "5000", "KEYS", key])
        for port in cluster.nodes.map(\.port) {
            try runTool("redis-cli", ["-p", "\(port)", "CLUSTER", "SETSLOT", "\(slot)", "NODE", target])
        }
        #expect(try await client.send("GET", RedisArgument(key)).string == "v1")  // via MOVED, map updated
        #expect(try await client.send("INCR", RedisArgument("{\(key)}:n")) == .integer(1))
        #expect(try await Self.owner(of: slot, cluster) == targetPort)
    }

    /// A primary killed: calls to its slots fail (no answer past the timeout) until its replica is promoted, then
    /// the client finds the new primary by itself.
    @Test func followsAFailover() async throws {
        let cluster = try RedisClusterServer()
        var configuration = try cluster.configuration()
        configuration.commandTimeout = .milliseconds(500)
        configuration.connectTimeout = .milliseconds(300)
        let client = RedisClient(configuration: configuration, logger: self.logger)
        defer { Task { await client.shutdown() } }
        let key = "failover-key"
        try await client.send("SET", RedisArgument(key), "before")
        let victim = try await Self.owner(of: RedisClusterSlot.of(key), cluster)
        cluster.nodes.first { $0.port == victim }!.stop()
        let killed = ContinuousClock.now
        var failures = 0
        var recovered = false
        while !recovered && ContinuousClock.now - killed < .seconds(30) {
            do {
                try await client.send("SET", RedisArgument(key), "after")
                recovered = true
            } catch {
                failures += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        print("cluster failover: writes to the slot resumed \(ContinuousClock.now - killed) after its primary was killed; \(failures) calls failed")
        #expect(recovered)
        #expect(failures > 0)
        #expect(try await client.send("GET", RedisArgument(key)).string == "after")
    }

    /// A TLS-only cluster with a password (bus and replication over TLS too), as managed cluster modes run: the
    /// credentials and TLS settings of `REDIS_URL` / `REDIS_TLS_*` apply to every node the map names.
    @Test func overTLSWithAPassword() async throws {
        let certificates = try TestCertificates()
        let cluster = try RedisClusterServer(replicas: 0, tls: certificates, password: "cluster-pw")
        let client = RedisClient(configuration: try cluster.configuration(), logger: self.logger)
        for i in 0..<50 { try await client.send("SET", RedisArgument("tls-\(i)"), RedisArgument(i)) }
        let counts = try await client.onEachPrimary(RedisCommand("DBSIZE")).map { $0.int ?? 0 }
        #expect(counts.count == 3 && counts.allSatisfy { $0 > 0 } && counts.reduce(0, +) == 50)
        let script = RedisScript("return redis.call('GET', KEYS[1])")
        #expect(try await client.evaluate(script, keys: ["tls-7"], arguments: []).string == "7")
        await client.shutdown()
        // the wrong CA, or no password: the connect fails with the reason, naming no password
        var wrongCA = try cluster.configuration()
        wrongCA.tls?.caFile = certificates.otherCAFile
        let refused = RedisClient(configuration: wrongCA, logger: self.logger)
        await #expect(throws: RedisError.self) { try await refused.send("GET", "tls-1") }
        await refused.shutdown()
        var noPassword = try cluster.configuration()
        noPassword.password = nil
        let anonymous = RedisClient(configuration: noPassword, logger: self.logger)
        do {
            try await anonymous.send("GET", "tls-1")
            Issue.record("a cluster with requirepass answered without a password")
        } catch let error as RedisError {
            #expect(!error.description.contains("cluster-pw"))
        }
        await anonymous.shutdown()
        withExtendedLifetime((cluster, certificates)) {}
    }

    /// The port of the primary serving `slot`, per a live node's `CLUSTER SLOTS`.
    static func owner(of slot: Int, _ cluster: RedisClusterServer) async throws -> Int {
        let direct = try makeClient(cluster.nodes.first(where: \.isRunning)!.url)
        defer { Task { await direct.shutdown() } }
        let map = try RedisClusterMap(slots: try await direct.send("CLUSTER", "SLOTS"), askedHost: "127.0.0.1")
        guard case .tcp(_, let port)? = map.primary(forSlot: slot) else { throw RedisError(.unexpectedReply, "slot \(slot) unserved") }
        return port
    }
}
