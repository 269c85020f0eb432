import ArgumentParser
import Foundation
import Logging
import RedisClient
import SMSCore

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
            let keys = RedisFromEnvironment.keys
            // Without a filter read `count`; with one, scan back further (bounded) to find `count` matches.
            let window = self.number == nil ? self.count : min(self.count * 100, 100_000)
            let reply = try await redis.send("XREVRANGE", RedisArgument(keys.audit), "+", "-", "COUNT", RedisArgument(window))
            var entries: [AuditEntry] = []
            for item in reply.array ?? [] {
                guard let pair = item.array, pair.count == 2, let id = pair[0].string, let raw = pair[1].array else { continue }
                var fields: [(String, String)] = []
                for i in stride(from: 0, to: raw.count - 1, by: 2) { fields.append((raw[i].string ?? "", raw[i + 1].string ?? "")) }
                let entry = AuditEntry(id: id, fields: fields)
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

    static var keys: RedisKeys { RedisKeys(prefix: ProcessInfo.processInfo.environment["SMSHOOK_KEY_PREFIX"] ?? "smshook") }
}
