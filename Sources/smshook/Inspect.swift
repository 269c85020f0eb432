import ArgumentParser
import Foundation
import RedisClient
import SMSCore
import SMSSystem
import SMSStore
import SMSWebhook

struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the queues and workers, or everything known about one message (inspect guid GUID).",
        subcommands: [Queues.self, GUID.self], defaultSubcommand: Queues.self)

    struct Queues: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "queues", abstract: "Queue, workers, retries, dead, audit, opt-outs.")
        @Flag(help: "JSON for scripts.") var json = false

        func run() async throws {
            let redis = try RedisFromEnvironment.client()
            defer { Task { await redis.shutdown() } }
            let s = try await QueueStats.read(redis: redis, keys: try RedisFromEnvironment.keys())
            if self.json {
                let workers = JSONValue.array(s.workers.map { w in
                    .object([
                        ("id", .string(w.id)), ("processing", .number(String(w.processing))),
                        ("heartbeat_age_s", w.heartbeatAge.map { .number(String(format: "%.1f", $0)) } ?? .null),
                    ])
                })
                print(JSONValue.object([
                    ("queued", .number(String(s.queued))), ("processing", .number(String(s.processing))),
                    ("retry_due_now", .number(String(s.retryDueNow))), ("retry_later", .number(String(s.retryLater))),
                    ("dead", .number(String(s.dead))), ("audit", .number(String(s.auditLength))),
                    ("rejected", .number(String(s.rejectedLength))), ("optout", .number(String(s.optOuts))),
                    ("workers", workers),
                ]).json)
                return
            }
            let rows: [(String, Int)] = [
                ("queued", s.queued), ("processing", s.processing), ("retry due now", s.retryDueNow),
                ("retry later", s.retryLater), ("dead", s.dead), ("audit entries", s.auditLength),
                ("rejected items", s.rejectedLength), ("opted-out numbers", s.optOuts),
            ]
            for (name, value) in rows { print(name.padding(toLength: 20, withPad: " ", startingAt: 0) + String(value)) }
            print("")
            print("worker".padding(toLength: 40, withPad: " ", startingAt: 0) + "processing  heartbeat")
            for w in s.workers {
                let beat = w.heartbeatAge.map { String(format: "%.1f s ago", $0) } ?? "expired (will be reaped)"
                print(w.id.padding(toLength: 40, withPad: " ", startingAt: 0) + String(w.processing).padding(toLength: 12, withPad: " ", startingAt: 0) + beat)
            }
            if s.workers.isEmpty { print("(no workers registered)") }
        }
    }

    struct GUID: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "guid", abstract: "Dedup value and TTL, audit entries and reply state of one message.")
        @Argument(help: "The message id (as stored: SMSMobileAPI guid, twilio:<sid>, asg:<id>).") var guid: String
        @Option(help: "How far back to search the audit stream.") var scan: Int = 100_000

        func run() async throws {
            let redis = try RedisFromEnvironment.client()
            defer { Task { await redis.shutdown() } }
            // its shard follows from its number, which only the record knows: look in every shard
            let keys = try RedisFromEnvironment.keys()
            var found: (shard: RedisKeys, value: String, ttl: Int64)?
            for shard in keys.shards where found == nil {
                let replies = try await redis.pipeline([
                    RedisCommand("GET", RedisArgument(shard.dedup(self.guid))), RedisCommand("TTL", RedisArgument(shard.dedup(self.guid))),
                ])
                if let value = replies[0].string { found = (shard, value, replies[1].int ?? -1) }
            }
            guard let (shard, value, ttl) = found else {
                print("\(self.guid): not seen (no dedup key \(keys.shards[0].dedup(self.guid))\(keys.isSharded ? " in any of \(keys.shards.count) shards" : ""))")
                throw ExitCode(1)
            }
            print("dedup \(shard.dedup(self.guid)) = \(value)  (TTL \(ttl) s)")
            let jobID = (try? JSONParser.parse(Array(value.utf8)))?["job_id"]?.stringValue
            var lines: [String] = []
            for entry in try await AuditEntry.newest(redis: redis, streams: [shard.audit], count: self.scan) {
                let matches = entry.data["guid"]?.stringValue == self.guid || entry.data["in_reply_to"]?.stringValue == self.guid
                    || (jobID != nil && entry.data["job_id"]?.stringValue == jobID)
                if matches {
                    lines.append(entry.line(time: Date(timeIntervalSince1970: Double(entry.milliseconds) / 1000).formatted(.iso8601)))
                }
            }
            print("audit:")
            for line in lines.reversed() { print("  " + line) }
            guard let jobID else { print("reply: none queued"); return }
            let marker = try await redis.send("GET", RedisArgument(shard.sent(jobID))).string
            let state = switch marker {
            case .none: "not sent yet (queued, retrying, or dead; see the audit above)"
            case .some(let m) where m.hasPrefix("sending "): "being sent by worker \(m.dropFirst(8)) (its claim lapses after WORKER_SEND_LEASE)"
            case .some: "sent"
            }
            print("reply job \(jobID): \(state)")
        }
    }
}

struct OptOut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optout", abstract: "The opt-out list: numbers that get no automatic reply.",
        subcommands: [List.self, Add.self, Remove.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every opted-out number.")
        @Option(help: "A channel's own set (opt_out_scope: channel); default: the global set.") var channel: String?
        func run() async throws {
            let redis = try RedisFromEnvironment.client()
            defer { Task { await redis.shutdown() } }
            var numbers: [String] = []
            for shard in try RedisFromEnvironment.keys().shards {
                let members = try await redis.send("SMEMBERS", RedisArgument(shard.optOut(channel: self.channel))).array ?? []
                numbers += members.compactMap(\.string)
            }
            for number in numbers.sorted() { print(number) }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Opt a number out (recorded in the audit stream).")
        @Argument var number: String
        @Option(help: "A channel's own set (opt_out_scope: channel); default: the global set.") var channel: String?
        func run() async throws {
            let added = try await OptOut.change(self.number, add: true, channel: self.channel)
            print(added.changed ? "added \(added.subscriber)" : "\(added.subscriber) was already opted out")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Opt a number back in (recorded in the audit stream).")
        @Argument var number: String
        @Option(help: "A channel's own set (opt_out_scope: channel); default: the global set.") var channel: String?
        func run() async throws {
            let removed = try await OptOut.change(self.number, add: false, channel: self.channel)
            print(removed.changed ? "removed \(removed.subscriber)" : "\(removed.subscriber) was not opted out")
        }
    }

    /// A number as the service keys it (normalised with the config file's default country code).
    static func subscriber(_ number: String) -> String {
        let countryCode = (try? ReplyConfig.load(path: ProcessInfo.processInfo.environment["SMSHOOK_CONFIG"]).0)?.defaultCountryCode
        return PhoneNumber.subscriber(number.trimmingWhitespace(), defaultCountryCode: countryCode)
    }

    /// SADD or SREM of the number as a subscriber key (normalised as the service does), and an audit entry
    /// saying who did it and when, in one transaction.
    static func change(_ number: String, add: Bool, channel: String?) async throws -> (subscriber: String, changed: Bool) {
        let env = ProcessInfo.processInfo.environment
        let subscriber = Self.subscriber(number)
        let space = try RedisFromEnvironment.keys()
        let maxLength = try EnvironmentReader(env).int("SMSHOOK_AUDIT_MAXLEN", default: 1_000_000, range: 1...1_000_000_000)
        let who = (env["SUDO_USER"] ?? env["USER"] ?? env["LOGNAME"] ?? "uid \(getuid())") + "@" + ProcessInfo.processInfo.hostName
        let now = Timestamp.now()
        let record = JSONValue.object([
            ("action", .string(add ? "add" : "remove")), ("number", .string(number)), ("subscriber", .string(subscriber)),
            ("by", .string(who)), ("via", .string("smshook optout")), ("at", .string(now)),
            ("channel", channel.map { .string($0) } ?? .null),
        ]).json
        // endpoints taking optout.changed (config file): the event is queued with the change, only when it changes
        let endpoints = (try? WorkerCommand.declaredConfig(env))??.events?.endpoints(for: .optOutChanged) ?? []
        let redis = try RedisFromEnvironment.client()
        defer { Task { await redis.shutdown() } }
        let changed = try await OptOutScript.change(
            redis: redis, keys: space, subscriber: subscriber, channel: channel, add: add, record: record,
            endpoints: endpoints, auditMaxLength: maxLength, at: now, eventID: JobID.makeEventID())
        return (subscriber, changed)
    }
}
