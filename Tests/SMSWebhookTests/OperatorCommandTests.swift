import Foundation
import RedisClient
import SMSCore
import SMSStore
import TestSupport
import Testing

/// `smshook optout add/remove`, the real binary: the number is normalised as serve does, and the change is audited.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct OperatorCommandTests {
    func run(_ arguments: [String], prefix: String) throws -> String {
        let (status, output) = try Self.smshook(arguments, env: ["REDIS_URL": TestRedis.url, "SMSHOOK_KEY_PREFIX": prefix, "USER": "alice"])
        #expect(status == 0)
        return output
    }

    /// Runs the binary with `env` (plus the repo's config file); exit status and standard output.
    static func smshook(_ arguments: [String], env: [String: String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["SMSHOOK_BIN"] ?? RepoFile.path(".build/debug/smshook"))
        process.arguments = arguments
        process.environment = ["SMSHOOK_CONFIG": RepoFile.path("config/smshook.yaml")].merging(env) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static let healthyEnv = [
        "SMSHOOK_LEGACY_SECRETS": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "SMSHOOK_SMSMOBILEAPI_SECRETS": "v2",
        "SMSHOOK_TWILIO_AUTH_TOKENS": "tw", "SMSHOOK_ASG_SECRETS": "asg", "SMSHOOK_PUBLIC_BASE_URL": "https://hooks.example.com",
        "SMSHOOK_PROVIDER": "smsmobileapi", "SMSMOBILEAPI_KEY": "key",
    ]

    @Test func doctorPassesAWellConfiguredInstance() throws {
        let (status, output) = try Self.smshook(["doctor"], env: Self.healthyEnv.merging(["REDIS_URL": TestRedis.url]) { $1 })
        #expect(status == 0, "\(output)")
        #expect(output.contains("ok   Redis answers at") && output.contains("ok   maxmemory-policy noeviction"))
        #expect(output.contains("ok   route twilio: twilio-signature with 1 secret(s)"))
        #expect(!output.contains("FAIL"))
    }

    @Test func doctorNamesEachMisconfiguration() throws {
        let lru = try RedisServer(arguments: ["--maxmemory-policy", "allkeys-lru"])
        var env = Self.healthyEnv.merging(["REDIS_URL": lru.url, "SMSHOOK_ASG_SECRETS": "CHANGE-ME-ASG", "SMSMOBILEAPI_KEY": "CHANGE-ME-KEY"]) { $1 }
        env["SMSHOOK_PUBLIC_BASE_URL"] = nil
        let (status, output) = try Self.smshook(["doctor"], env: env)
        #expect(status == 1)
        for expected in [
            "FAIL maxmemory-policy allkeys-lru", "FAIL route android-sms-gateway: SMSHOOK_ASG_SECRETS is still a CHANGE-ME placeholder",
            "FAIL route twilio: SMSHOOK_PUBLIC_BASE_URL is needed", "FAIL worker provider smsmobileapi: SMSMOBILEAPI_KEY still CHANGE-ME",
            "doctor: 4 failure(s)",
        ] {
            #expect(output.contains(expected), "missing '\(expected)' in:\n\(output)")
        }
        let closed = try ClosedPort()
        let (down, text) = try Self.smshook(["doctor"], env: Self.healthyEnv.merging(["REDIS_URL": "redis://:pw@127.0.0.1:\(closed.port)"]) { $1 })
        #expect(down == 1 && text.contains("FAIL Redis at redis://:***@127.0.0.1:\(closed.port)/0"), "\(text)")
        #expect(!text.contains(":pw@"))
        withExtendedLifetime((lru, closed)) {}
    }

    @Test func optOutChangesAreNormalisedAndAudited() async throws {
        let prefix = TestRedis.uniquePrefix("cli")
        let keys = RedisKeys(prefix: prefix)
        let check = RedisClient(configuration: try RedisConfiguration(url: TestRedis.url), logger: .init(label: "test"))
        #expect(try self.run(["optout", "add", "+1 (555) 010-0009"], prefix: prefix) == "added +15550100009\n")
        #expect(try await check.send("SISMEMBER", RedisArgument(keys.optOut), "+15550100009") == .integer(1))
        #expect(try self.run(["optout", "remove", "001 555 010 0009"], prefix: prefix) == "removed +15550100009\n")
        #expect(try await check.send("SCARD", RedisArgument(keys.optOut)) == .integer(0))
        let entries = try await check.send("XRANGE", RedisArgument(keys.audit), "-", "+").array ?? []
        let records = entries.compactMap { entry -> AuditEntry? in
            guard let pair = entry.array, let id = pair[0].string, let raw = pair[1].array else { return nil }
            let fields = stride(from: 0, to: raw.count - 1, by: 2).map { (raw[$0].string ?? "", raw[$0 + 1].string ?? "") }
            return AuditEntry(id: id, fields: fields)
        }
        #expect(records.map { $0.fields["event"] } == ["optout_change", "optout_change"])
        #expect(records.map { $0.fields["decision"] } == ["add", "remove"])
        #expect(records.allSatisfy { $0.data["by"]?.stringValue?.hasPrefix("alice@") == true && $0.data["at"] != nil })
        #expect(records.first?.data["number"] == .string("+1 (555) 010-0009"))
        await check.shutdown()
    }
}

/// The operator commands build their client from the same environment as serve: Sentinel and TLS work for them too.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"), .serialized)
struct OperatorCommandTopologyTests {
    func check(env: [String: String], client: RedisClient, prefix: String, shards: Int = 1) async throws {
        let all = env.merging(["SMSHOOK_KEY_PREFIX": prefix, "USER": "bob"]) { $1 }
        let (added, output) = try OperatorCommandTests.smshook(["optout", "add", "+1 555 010 0042"], env: all)
        #expect(added == 0 && output == "added +15550100042\n", "\(output)")
        let shard = KeySpace(prefix: prefix, shards: shards).shard(subscriber: "+15550100042", guid: "")
        #expect(try await client.send("SISMEMBER", RedisArgument(shard.optOut), "+15550100042") == .integer(1))
        let (inspected, text) = try OperatorCommandTests.smshook(["inspect"], env: all)
        #expect(inspected == 0, "\(text)")
        #expect(text.contains("opted-out numbers   1") && text.contains("audit entries       1"), "\(text)")
    }

    @Test func throughSentinel() async throws {
        let primary = try RedisServer()
        let sentinel = try SentinelServer(masterName: "ops", primaryPort: primary.port)
        let closed = try ClosedPort()
        // REDIS_URL points nowhere: only the sentinel knows where the primary is
        let env = ["REDIS_URL": "redis://127.0.0.1:\(closed.port)", "REDIS_SENTINELS": "127.0.0.1:\(sentinel.port)", "REDIS_MASTER_NAME": "ops"]
        let client = RedisClient(configuration: try RedisConfiguration(url: primary.url), logger: .init(label: "test"))
        try await self.check(env: env, client: client, prefix: TestRedis.uniquePrefix("ops-sentinel"))
        await client.shutdown()
        withExtendedLifetime((primary, sentinel, closed)) {}
    }

    @Test func throughTLS() async throws {
        let certificates = try TestCertificates()
        let server = try RedisServer(tls: certificates, server: .ip)
        let env = ["REDIS_URL": "rediss://127.0.0.1:\(server.port)", "REDIS_TLS_CA_FILE": certificates.caFile]
        var configuration = try RedisConfiguration(environment: env)
        configuration.connectTimeout = .seconds(2)
        let client = RedisClient(configuration: configuration, logger: .init(label: "test"))
        try await self.check(env: env, client: client, prefix: TestRedis.uniquePrefix("ops-tls"))
        await client.shutdown()
        withExtendedLifetime((server, certificates)) {}
    }

    /// On a Redis Cluster the commands find a message, its audit and the opt-outs in whichever shard holds them.
    @Test func throughCluster() async throws {
        let cluster = try TestCluster.shared()
        let prefix = TestRedis.uniquePrefix("ops-cluster")
        let env = ["REDIS_CLUSTER_NODES": cluster.seeds]
        let service = try TestService(prefix: prefix, cluster: true)
        try await self.check(env: env, client: service.check, prefix: prefix, shards: KeySpace.defaultClusterShards)
        try await service.app.test(.live) { client in
            let (status, _) = try await client.postWebhook(#"{"message":"yes","number":"+15550100777","guid":"ops-cl-1"}"#)
            #expect(status == .ok)
        }
        let all = env.merging(["SMSHOOK_KEY_PREFIX": prefix]) { $1 }
        let shard = service.shard(number: "+15550100777", guid: "ops-cl-1")
        let (found, text) = try OperatorCommandTests.smshook(["inspect", "guid", "ops-cl-1"], env: all)
        #expect(found == 0 && text.contains("dedup \(shard.dedup("ops-cl-1"))") && text.contains("inbound queued"), "\(text)")
        let (tailed, audit) = try OperatorCommandTests.smshook(["audit", "tail", "--count", "5"], env: all)
        #expect(tailed == 0 && audit.contains("optout_change add") && audit.contains("guid=ops-cl-1"), "\(audit)")
        // oldest first across shards: the opt-out change came before the message
        #expect((audit.range(of: "optout_change")?.lowerBound ?? audit.endIndex) < (audit.range(of: "guid=ops-cl-1")?.lowerBound ?? audit.startIndex))
        let (listed, numbers) = try OperatorCommandTests.smshook(["optout", "list"], env: all)
        #expect(listed == 0 && numbers == "+15550100042\n")
        let (missing, _) = try OperatorCommandTests.smshook(["inspect", "guid", "never-seen"], env: all)
        #expect(missing == 1)
        let (healthy, report) = try OperatorCommandTests.smshook(["doctor"], env: OperatorCommandTests.healthyEnv.merging(all) { $1 })
        #expect(healthy == 0, "\(report)")
        #expect(report.contains("ok   Redis Cluster: 3 primaries serve 16384 of 16384 slots"), "\(report)")
        #expect(report.contains("ok   64 shards per primary: "), "\(report)")  // 21/22/21 over the three primaries
        #expect(report.components(separatedBy: "ok   maxmemory-policy noeviction on 127.0.0.1:").count == 4)
        await service.check.shutdown()
    }
}
