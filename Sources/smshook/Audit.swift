import ArgumentParser
import Foundation
import Logging
import RedisClient
import SMSCore
import SMSStore

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the audit stream.", subcommands: [Tail.self])

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print recent audit entries, oldest first.")

        @Option(help: "Only entries of this number (sender or recipient).") var number: String?
        @Option(help: "How many entries.") var count: Int = 20
        @Flag(help: "One JSON object per line.") var json = false

        func run() async throws {
            let redis = try RedisFromEnvironment.client()
            defer { Task { await redis.shutdown() } }
            let keys = try RedisFromEnvironment.keys()
            // Without a filter read `count`; with one, scan back further (bounded) to find `count` matches, in the
            // number's shard only (its messages and replies all live there).
            let window = self.number == nil ? self.count : min(self.count * 100, 100_000)
            let shards = self.number.map { [keys.shard(subscriber: OptOut.subscriber($0), guid: "")] } ?? keys.shards
            var entries: [AuditEntry] = []
            for entry in try await AuditEntry.newest(redis: redis, streams: shards.map(\.audit), count: window) {
                if let number, !entry.concerns(number) { continue }
                entries.append(entry)
                if entries.count == self.count { break }
            }
            for entry in entries.reversed() {
                if self.json {
                    var members: [(String, JSONValue)] = [("id", .string(entry.id))]
                    for (k, v) in entry.fields.sorted(by: { $0.key < $1.key }) where k != "data" { members.append((k, .string(v))) }
                    members.append(("data", entry.data))
                    print(JSONValue.object(members).json)
                } else {
                    let date = Date(timeIntervalSince1970: Double(entry.milliseconds) / 1000)
                    print(entry.line(time: date.formatted(.iso8601)))
                }
            }
        }
    }
}

/// Redis access for the operator commands: REDIS_URL and SMSHOOK_KEY_PREFIX, as `serve` reads them.
enum RedisFromEnvironment {
    static func client() throws -> RedisClient {
        let env = ProcessInfo.processInfo.environment
        // The same reader as serve and worker: REDIS_URL, Sentinel, timeouts.
        var configuration = try RedisConfiguration(environment: env)
        if env["REDIS_CONNECT_TIMEOUT_MS"] == nil { configuration.connectTimeout = .seconds(2) }
        var logger = Logger(label: "smshook.cli")
        logger.logLevel = .error
        return RedisClient(configuration: configuration, logger: logger)
    }

    /// SMSHOOK_KEY_PREFIX and SMSHOOK_SHARDS, as serve and worker read them.
    static func keys() throws -> KeySpace {
        let env = ProcessInfo.processInfo.environment
        let cluster = env["REDIS_CLUSTER_NODES"].map { !$0.isEmpty } ?? false
        return KeySpace(prefix: env["SMSHOOK_KEY_PREFIX"] ?? "smshook", shards: try KeySpace.shardCount(env, cluster: cluster))
    }
}

