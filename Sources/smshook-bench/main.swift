// smshook-bench redis URL TASKS TOTAL
// Runs TOTAL `SET key value` commands from TASKS concurrent tasks through RedisClient; prints "ops_per_sec N".
import Foundation
import Logging
import RedisClient

let args = CommandLine.arguments
if args.count == 4, args[1] == "pipeline", let n = Int(args[3]) {
    try Pipeline.run(config: args[2], count: n)
    exit(0)
}
guard args.count == 5, args[1] == "redis", let tasks = Int(args[3]), let total = Int(args[4]) else {
    FileHandle.standardError.write(Data("usage: smshook-bench redis REDIS_URL TASKS TOTAL\n".utf8))
    exit(2)
}
var configuration = try RedisConfiguration(url: args[2])
configuration.connections = Int(ProcessInfo.processInfo.environment["REDIS_CONNECTIONS"] ?? "1") ?? 1
let client = RedisClient(configuration: configuration, logger: Logger(label: "bench"))
try await client.send("PING")
let perTask = total / tasks
let value = RedisArgument(String(repeating: "x", count: 3))  // redis-benchmark's default payload is 3 bytes
let started = ContinuousClock.now
try await withThrowingTaskGroup(of: Void.self) { group in
    for t in 0..<tasks {
        group.addTask {
            for i in 0..<perTask {
                try await client.send("SET", RedisArgument("bench:\(t):\(i % 1000)"), value)
            }
        }
    }
    try await group.waitForAll()
}
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print("ops_per_sec \(Int(Double(perTask * tasks) / seconds))")
await client.shutdown()
