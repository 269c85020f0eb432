import ArgumentParser
import Foundation
import RedisClient
import SMSCore
import SMSStore

struct Dead: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect and replay dead reply jobs.", subcommands: [List.self, Retry.self, Purge.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print dead jobs, newest first.")
        @Option(help: "How many.") var count: Int = 50
        @Flag(help: "Raw JSON records, one per line.") var json = false

        func run() async throws {
            let redis = try RedisFromEnvironment.client()
            defer { Task { await redis.shutdown() } }
            for item in try await DeadJobs(redis: redis, keys: try RedisFromEnvironment.keys()).list(count: self.count) {
                if self.json { print(String(decoding: item, as: UTF8.self)); continue }
                let record = (try? JSONParser.parse(item)) ?? .null
                let job = record["job"]
                print([
                    record["failed_at"]?.stringValue ?? "-", job?["id"]?.stringValue ?? "-",
                    "to=\(job?["to"]?.stringValue ?? "-")", "error=\(record["error"]?.stringValue ?? "-")",
                ].joined(separator: " "))
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put dead jobs back on the queue (attempts reset).")
        @Argument(help: "The job id.") var jobID: String?
        @Flag(help: "Every dead job.") var all = false

        func validate() throws {
            guard (self.jobID != nil) != self.all else { throw ValidationError("give a job id or --all") }
        }

        func run() async throws {
            let redis = try RedisFromEnvironment.client()
            defer { Task { await redis.shutdown() } }
            let n = try await DeadJobs(redis: redis, keys: try RedisFromEnvironment.keys()).replay(id: self.all ? nil : self.jobID)
            print("requeued \(n) job\(n == 1 ? "" : "s")")
            if n == 0 && !self.all { throw ExitCode(1) }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete every dead job.")
        func run() async throws {
            let redis = try RedisFromEnvironment.client()
            defer { Task { await redis.shutdown() } }
            let n = try await DeadJobs(redis: redis, keys: try RedisFromEnvironment.keys()).purge()
            print("purged \(n) job\(n == 1 ? "" : "s")")
        }
    }
}
