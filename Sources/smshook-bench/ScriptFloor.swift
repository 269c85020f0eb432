import Foundation
import Logging
import RedisClient
import SMSCore
import SMSStore
import SMSWebhook

/// `smshook-bench floor REDIS_URL CONFIG CALLS`: Redis CPU per message of the ingest script in batches of 100, next to
/// two cut-down scripts given the very same KEYS and ARGV (`IngestScript.Floor`): one that only reads them and
/// answers (what the arguments cost), one that runs the same commands with no other Lua (what the commands cost).
/// The rest of the ingest script's figure is its own logic. A fourth run gives the first cut-down script as many
/// arguments, each empty: what their number costs; the rest of the arguments' figure is what their bytes cost (Redis
/// 7's Lua hashes every byte of every string it makes, ARGV included). Each variant runs CALLS calls of new
/// messages, 4 in flight, 3 rounds alternating; Redis CPU from `INFO cpu`; medians printed. Meant for a Redis with nothing else to do.
/// With `FLOOR_CALLGRIND=PID:FILE` (that Redis runs under `valgrind --tool=callgrind --callgrind-out-file=FILE`), one
/// round counts the instructions Redis executes per message instead: the same figure in every run, for comparing
/// two versions of the script where CPU time is too noisy.
enum ScriptFloor {
    static func run(url: String, config path: String, calls: Int) async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["REDIS_URL"] = url
        let client = RedisClient(configuration: try RedisConfiguration(environment: environment), logger: Logger(label: "bench"))
        let maker = BatchMaker(rules: ReplyRules(try ReplyConfig.load(path: path).0).current)
        let settings = IngestService.settings(.init(), rules: maker.rules)
        let variants = [
            ("ingest script", IngestScript.script(for: settings)), ("arguments only", RedisScript(IngestScript.Floor.argumentsOnly)),
            ("commands only", RedisScript(IngestScript.Floor.commandsOnly(settings))),
            ("arguments empty", RedisScript(IngestScript.Floor.argumentsOnly)),
        ]
        let emptied = variants.count - 1
        for (_, script) in variants { try await client.load(script) }
        var meter = try Meter(ProcessInfo.processInfo.environment["FLOOR_CALLGRIND"], client: client)
        var figures = Array(repeating: [Double](), count: variants.count)
        for round in 0..<meter.rounds {
            for (v, (_, script)) in variants.enumerated() {
                let first = (round * variants.count + v) * calls * 100
                let commands = try (0..<calls).map { try maker.call(script, first: first + $0 * 100, emptied: v == emptied) }
                try await meter.start()
                for start in stride(from: 0, to: commands.count, by: 4) {
                    for result in await client.evaluateEach(script, calls: Array(commands[start..<min(start + 4, commands.count)])) {
                        guard case .success(.array(let out)) = result, out.count == 100, out[0].string == "queued" else {
                            throw BenchError("\(variants[v].0): unexpected reply \(result)")
                        }
                    }
                }
                figures[v].append(try await meter.stop() / Double(calls * 100))
            }
        }
        for (v, (name, _)) in variants.enumerated() {
            let median = figures[v].sorted()[figures[v].count / 2]
            print("\(name.padding(toLength: 15, withPad: " ", startingAt: 0)) \(meter.format(median))")
        }
        let (keys, arguments) = try maker.parts(first: 0)
        print("KEYS and ARGV    \((keys + arguments).reduce(0) { $0 + $1.count } / 100) bytes/msg")
        await client.shutdown()
    }
}

/// What a variant costs Redis: CPU seconds from `INFO cpu`, or instructions counted by callgrind.
struct Meter {
    let client: RedisClient
    /// nil: CPU time
    let callgrind: (pid: String, file: String)?
    var rounds: Int { self.callgrind == nil ? 3 : 1 }
    private var started = 0.0

    init(_ setting: String?, client: RedisClient) throws {
        self.client = client
        guard let setting else { self.callgrind = nil; return }
        let parts = setting.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, Int(parts[0]) != nil else { throw BenchError("FLOOR_CALLGRIND must be PID:FILE") }
        self.callgrind = (parts[0], parts[1])
    }

    mutating func start() async throws {
        if let callgrind {
            try Self.control("-z", callgrind.pid)
        } else {
            self.started = try await self.cpuSeconds()
        }
    }

    /// CPU microseconds or instructions since `start`.
    func stop() async throws -> Double {
        guard let callgrind else { return (try await self.cpuSeconds() - self.started) * 1e6 }
        let directory = (callgrind.file as NSString).deletingLastPathComponent
        let name = (callgrind.file as NSString).lastPathComponent
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: directory))
        try Self.control("-d", callgrind.pid)
        guard let dump = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter({ $0.hasPrefix(name) && !before.contains($0) }).first
        else { throw BenchError("callgrind wrote no dump next to \(callgrind.file)") }
        let text = try String(contentsOfFile: directory + "/" + dump, encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("summary:") || $0.hasPrefix("totals:") }),
            let count = line.split(separator: " ").last.flatMap({ Double($0) })
        else { throw BenchError("no instruction total in \(dump)") }
        return count
    }

    func format(_ figure: Double) -> String {
        self.callgrind == nil ? String(format: "%5.2f us/msg", figure) : String(format: "%6.0f instructions/msg", figure)
    }

    private func cpuSeconds() async throws -> Double {
        let info = try await self.client.send("INFO", "cpu").string ?? ""
        var total = 0.0
        for line in info.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":")
            if parts.count == 2, parts[0] == "used_cpu_user" || parts[0] == "used_cpu_sys", let v = Double(parts[1]) { total += v }
        }
        return total
    }

    private static func control(_ flag: String, _ pid: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/callgrind_control")
        process.arguments = [flag, pid]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("callgrind_control \(flag) \(pid) failed") }
    }
}

/// Script calls of 100 new messages as serve writes them (`IngestService.prepare`): each its own guid and number,
/// each answered "Yes" (a reply is due).
struct BatchMaker {
    let rules: ReplyRules.Snapshot
    let keys = RedisKeys(prefix: "benchfloor")
    let run = Int.random(in: 0..<10_000)

    /// - Parameters:
    ///   - first: the call's first message number; each message has its own guid and phone number.
    ///   - emptied: every key and argument replaced by an empty one (as many, none of their bytes).
    func call(_ script: RedisScript, first: Int, emptied: Bool = false) throws -> RedisCommand {
        let (keys, arguments) = try self.parts(first: first)
        let argument = { (bytes: [UInt8]) in RedisArgument(bytes: emptied ? [] : bytes) }
        return script.call(keys: keys.map(argument), arguments: arguments.map(argument))
    }

    /// The KEYS and ARGV of the call whose first message is `first`.
    func parts(first: Int) throws -> (keys: [[UInt8]], arguments: [[UInt8]]) {
        let items = (first..<first + 100).map { n in
            #"{"date":"2025-01-20","hour":"10:15:00","time_received":"2025-01-20 10:14:50","message":"Yes","number":"+1\#(String(format: "%04d%08d", self.run, n))","guid":"floor-\#(self.run)-\#(n)"}"#
        }
        let body = Array(#"{"messages":[\#(items.joined(separator: ","))]}"#.utf8)
        let call = IngestService.prepare(
            try LegacyPayload.decode(body, limits: IngestLimits()), rules: self.rules, settings: .init(), instance: "bench:0",
            now: Timestamp.now())
        guard call.rejected.isEmpty, call.entries.allSatisfy({ $0.job != nil }) else {
            throw BenchError("every bench message must be accepted with a reply due")
        }
        // the layout `IngestScript.Floor` reads: no event endpoints, one opt-out set, no conversations
        guard IngestScript.counts(entries: 100, rejected: 0, settings: call.settings) == (4 + 2 * 100, 3 + 5 * 100) else {
            throw BenchError("the config's events or per-channel opt-out change the argument layout the floor scripts read")
        }
        return IngestScript.arguments(entries: call.entries, rejected: [], keys: self.keys, settings: call.settings)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
