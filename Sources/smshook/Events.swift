import ArgumentParser
import Foundation
import RedisClient
import SMSCore
import SMSStore
import SMSSystem

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Event endpoints: queue counts and dead events; replay or purge them.",
        subcommands: [List.self, Retry.self, Purge.self])

    /// The endpoint names: the one given, else every endpoint of the config file.
    static func endpoints(_ given: String?) throws -> [String] {
        if let given { return [given] }
        let names = try WorkerCommand.declaredConfig(ProcessInfo.processInfo.environment)?.events?.endpoints.map(\.name) ?? []
        guard !names.isEmpty else { throw ValidationError("no events.endpoints in the config file; name one with --endpoint") }
        return names
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Per endpoint: queued, retrying, dead, disabled; then its dead events, newest first.")
        @Option(help: "One endpoint (default: every endpoint in the config file).") var endpoint: String?
        @Option(help: "How many dead events per endpoint.") var count: Int = 20
        @Flag(help: "Raw JSON dead records, one per line.") var json = false

        func run() async throws {
            let redis = try RedisFromEnvironment.client()
            defer { Task { await redis.shutdown() } }
            let keys = try RedisFromEnvironment.keys()
            for name in try Events.endpoints(self.endpoint) {
                let store = DeadEvents(redis: redis, keys: keys, endpoint: name)
                let counts = try await store.counts()
                if !self.json {
                    print("\(name): queued=\(counts.queued) retrying=\(counts.retrying) dead=\(counts.dead)"
                        + (counts.disabled.map { " DISABLED (\($0))" } ?? ""))
                }
                for raw in try await store.list(count: self.count) {
                    if self.json { print(String(decoding: raw, as: UTF8.self)); continue }
                    let record = (try? JSONParser.parse(raw)) ?? .null
                    let event = record["entry"]?.stringValue.flatMap { QueuedEvent(entry: Array($0.utf8)) }
                    print("  " + [
                        record["failed_at"]?.stringValue ?? "-", event?.id ?? "-", event?.type ?? "-",
                        "error=\(record["error"]?.stringValue ?? "-")",
                    ].joined(separator: " "))
                }
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue dead events again (attempts reset) and re-enable the endpoint (after a 410 Gone).")
        @Option(help: "The endpoint.") var endpoint: String
        @Argument(help: "The event id (webhook-id).") var eventID: String?
        @Flag(help: "Every dead event of the endpoint.") var all = false

        func validate() throws {
            guard (self.eventID != nil) != self.all else { throw ValidationError("give an event id or --all") }
        }

        func run() async throws {
            let redis = try RedisFromEnvironment.client()
            defer { Task { await redis.shutdown() } }
            let n = try await DeadEvents(redis: redis, keys: try RedisFromEnvironment.keys(), endpoint: self.endpoint)
                .replay(id: self.all ? nil : self.eventID)
            print("requeued \(n) event\(n == 1 ? "" : "s"); endpoint \(self.endpoint) enabled")
            if n == 0 && !self.all { throw ExitCode(1) }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete the endpoint's dead events.")
        @Option(help: "The endpoint.") var endpoint: String
        func run() async throws {
            let redis = try RedisFromEnvironment.client()
            defer { Task { await redis.shutdown() } }
            let n = try await DeadEvents(redis: redis, keys: try RedisFromEnvironment.keys(), endpoint: self.endpoint).purge()
            print("purged \(n) event\(n == 1 ? "" : "s")")
        }
    }
}
