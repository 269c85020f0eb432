// smshook-bench redis URL TASKS TOTAL [PIPELINE] | pipeline CONFIG N [STEP] (Pipeline.swift) | floor URL CONFIG CALLS
// (ScriptFloor.swift)
// Runs TOTAL `SET key value` commands from TASKS concurrent tasks through RedisClient, one command per call or PIPELINE
// commands per `pipeline` call (as redis-benchmark -P); prints "ops_per_sec N". REDIS_TLS_* and REDIS_CONNECTIONS
// are read from the environment as serve reads them.
import Foundation
import Logging
import RedisClient

let args = CommandLine.arguments
if (4...5).contains(args.count), args[1] == "pipeline", let n = Int(args[3]) {
    try Pipeline.run(config: args[2], count: n, only: args.count == 5 ? args[4] : nil)
    exit(0)
}
if args.count == 5, args[1] == "floor", let calls = Int(args[4]), calls > 0 {
    try await ScriptFloor.run(url: args[2], config: args[3], calls: calls)
    exit(0)
}
guard (5...6).contains(args.count), args[1] == "redis", let tasks = Int(args[3]), let total = Int(args[4]), tasks > 0,
    let depth = args.count == 6 ? Int(args[5]) : 1, depth > 0
else {
    FileHandle.standardError.write(Data("usage: smshook-bench redis REDIS_URL TASKS TOTAL [PIPELINE]\n".utf8))
    exit(2)
}
var environment = ProcessInfo.processInfo.environment
environment["REDIS_URL"] = args[2]
let configuration = try RedisConfiguration(environment: environment)
let client = RedisClient(configuration: configuration, logger: Logger(label: "bench"))
try await client.send("PING")
let perTask = total / tasks / depth
let value = RedisArgument(String(repeating: "x", count: 3))  // redis-benchmark's default payload is 3 bytes
let started = ContinuousClock.now
try await withThrowingTaskGroup(of: Void.self) { group in
    for t in 0..<tasks {
        group.addTask {
            // like redis-benchmark, each client encodes its commands once and sends them again and again: this
            // measures the transport, not the formatting of keys
            let batch = (0..<depth).map { RedisCommand("SET", RedisArgument("bench:\(t):\($0)"), value) }
            for _ in 0..<perTask {
                if depth == 1 {
                    try await client.send(batch[0])
                } else {
                    _ = try await client.pipeline(batch)
                }
            }
        }
    }
    try await group.waitForAll()
}
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print("ops_per_sec \(Int(Double(perTask * tasks * depth) / seconds))")
await client.shutdown()
