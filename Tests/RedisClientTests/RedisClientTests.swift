import Foundation
import Logging
import RedisClient
import Testing
import TestSupport

func makeClient(_ url: String = TestRedis.url, configure: (inout RedisConfiguration) -> Void = { _ in }) throws
    -> RedisClient
{
    var configuration = try RedisConfiguration(url: url)
    configure(&configuration)
    return RedisClient(configuration: configuration, logger: Logger(label: "test.redis"))
}

@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct RedisClientTests {
    let prefix = TestRedis.uniquePrefix("client")

    @Test func binarySafeValuesRoundTrip() async throws {
        let client = try makeClient()
        let value: [UInt8] = [0, 1, 0, 0xFF, 0xFE, 0xC3, 0x28, 13, 10, 0]
        let key = RedisArgument(bytes: Array("\(prefix):bin\u{0}key".utf8) + [0xFF])
        try await client.send("SET", key, RedisArgument(bytes: value))
        let reply = try await client.send("GET", key)
        #expect(reply == .bulk(value))
        #expect(try await client.send("GET", "\(prefix):missing") == .null)
        #expect(try await client.send("STRLEN", key) == .integer(Int64(value.count)))
        await client.shutdown()
    }

    @Test func pipelinedRepliesArriveInOrder() async throws {
        let client = try makeClient()
        let key = RedisArgument("\(prefix):counter")
        let commands = (0..<500).map { _ in RedisCommand("INCR", key) } + [RedisCommand("PING"), RedisCommand("GET", key)]
        let replies = try await client.pipeline(commands)
        #expect(replies.count == 502)
        #expect(replies[0..<500] == ArraySlice((1...500).map { RedisReply.integer(Int64($0)) }))
        #expect(replies[500] == .status("PONG"))
        #expect(replies[501] == .bulk(Array("500".utf8)))
        await client.shutdown()
    }

    /// Large commands (a batch's script call is 100 KB or more) among small ones keep their order and bytes, from one
    /// caller's pipeline and from many callers at once.
    @Test func largeAndSmallCommandsKeepTheirOrder() async throws {
        let client = try makeClient()
        let big = (0..<3).map { n in [UInt8]((0..<(40_000 + n)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ n) }) }
        var commands: [RedisCommand] = []
        for n in 0..<3 {
            commands.append(RedisCommand("SET", "\(prefix):small:\(n)", "s\(n)"))
            commands.append(RedisCommand("SET", "\(prefix):big:\(n)", RedisArgument(bytes: big[n])))
        }
        commands += (0..<3).flatMap { n in [RedisCommand("GET", "\(prefix):big:\(n)"), RedisCommand("GET", "\(prefix):small:\(n)")] }
        let replies = try await client.pipeline(commands)
        #expect(replies[0..<6].allSatisfy { $0 == .status("OK") })
        for n in 0..<3 {
            #expect(replies[6 + 2 * n] == .bulk(big[n]))
            #expect(replies[7 + 2 * n] == .bulk(Array("s\(n)".utf8)))
        }
        let echoed = try await withThrowingTaskGroup(of: (Int, [RedisReply]).self) { group in
            for caller in 0..<20 {
                group.addTask {
                    let value = RedisArgument(bytes: caller % 2 == 0 ? big[caller % 3] : Array("c\(caller)".utf8))
                    return (caller, try await client.pipeline([RedisCommand("ECHO", value), RedisCommand("ECHO", "\(caller)")]))
                }
            }
            return try await group.reduce(into: [Int: [RedisReply]]()) { $0[$1.0] = $1.1 }
        }
        for caller in 0..<20 {
            let expected = caller % 2 == 0 ? big[caller % 3] : Array("c\(caller)".utf8)
            #expect(echoed[caller] == [.bulk(expected), .bulk(Array("\(caller)".utf8))])
        }
        await client.shutdown()
    }

    @Test func replyTypesAndServerErrors() async throws {
        let client = try makeClient()
        let list = RedisArgument("\(prefix):list")
        #expect(try await client.send("RPUSH", list, "a", "b") == .integer(2))
        #expect(try await client.send("LRANGE", list, 0, -1) == .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8))]))
        await #expect(throws: RedisError(.server, "WRONGTYPE Operation against a key holding the wrong kind of value")) {
            try await client.send("INCR", list)
        }
        let replies = try await client.pipeline([RedisCommand("NOSUCHCOMMAND"), RedisCommand("PING")])
        guard case .error(let message) = replies[0] else { Issue.record("expected an error reply"); return }
        #expect(message.hasPrefix("ERR unknown command"))
        #expect(replies[1] == .status("PONG"))
        await client.shutdown()
    }

    @Test func scriptSurvivesScriptFlush() async throws {
        let client = try makeClient()
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1]) -- \(prefix)")
        let key = RedisArgument("\(prefix):script")
        #expect(try await client.evaluate(script, keys: [key], arguments: [5]) == .integer(5))
        #expect(try await client.isLoaded(script))
        try await client.send("SCRIPT", "FLUSH")
        #expect(try await client.isLoaded(script) == false)
        #expect(try await client.evaluate(script, keys: [key], arguments: [2]) == .integer(7))
        #expect(try await client.isLoaded(script))
        await client.shutdown()
    }

    @Test func builtScriptCallsMatchTheArgumentForm() async throws {
        let client = try makeClient()
        let script = RedisScript("return {KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]) + 1} -- \(prefix) built")
        var builder = RedisCommandBuilder(evaluating: script, keys: 1, arguments: 3)
        builder.append("\(prefix):k")
        builder.append([0, 255, 13, 10])
        "text é".utf8.withContiguousStorageIfAvailable { builder.append(UnsafeRawBufferPointer($0)) }
        builder.append(41)
        let call = builder.command
        #expect(call == RedisCommand(["EVALSHA", RedisArgument(script.sha1), 1, RedisArgument("\(prefix):k"), RedisArgument(bytes: [0, 255, 13, 10]), "text é", 41]))
        #expect(call.name == "EVALSHA")
        let reply = try await client.evaluate(script, call: call)  // not loaded yet: NOSCRIPT, load, retry
        #expect(reply == .array([.bulk(Array("\(prefix):k".utf8)), .bulk([0, 255, 13, 10]), .bulk(Array("text é".utf8)), .integer(42)]))
        await client.shutdown()
    }

    @Test func reconnectsAfterClientKill() async throws {
        let client = try makeClient()
        let killer = try makeClient()
        let id = try #require(try await client.send("CLIENT", "ID").int)
        #expect(try await killer.send("CLIENT", "KILL", "ID", RedisArgument(id)) == .integer(1))
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await client.send("PING") == .status("PONG"))
        let newID = try #require(try await client.send("CLIENT", "ID").int)
        #expect(newID != id)
        await client.shutdown()
        await killer.shutdown()
    }

    @Test func tenThousandConcurrentTasksSeeTheirOwnValues() async throws {
        let client = try makeClient()
        let prefix = self.prefix
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<10_000 {
                group.addTask {
                    let key = RedisArgument("\(prefix):c:\(i)")
                    try await client.send("SET", key, RedisArgument("value-\(i)"), "EX", 60)
                    let got = try await client.send("GET", key)
                    return got == .bulk(Array("value-\(i)".utf8)) ? 0 : 1
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        await client.shutdown()
    }

    @Test func blockingCommandOnDedicatedConnectionOutlivesCommandTimeout() async throws {
        let client = try makeClient { $0.commandTimeout = .milliseconds(200) }
        let connection = client.makeDedicatedConnection()
        let source = RedisArgument("\(prefix):q")
        let target = RedisArgument("\(prefix):q:processing")
        let started = ContinuousClock.now
        let empty = try await connection.send(
            RedisCommand("BLMOVE", source, target, "RIGHT", "LEFT", "0.5"), timeout: .seconds(2))
        #expect(empty == .null)
        #expect(ContinuousClock.now - started >= .milliseconds(450))
        async let moved = connection.send(
            RedisCommand("BLMOVE", source, target, "RIGHT", "LEFT", "5"), timeout: .seconds(8))
        try await Task.sleep(for: .milliseconds(100))
        let pusher = try makeClient()  // the default timeouts: a loaded machine must not fail the push itself
        try await pusher.send("LPUSH", source, "job-1")
        #expect(try await moved == .bulk(Array("job-1".utf8)))
        #expect(try await pusher.send("LRANGE", target, 0, -1) == .array([.bulk(Array("job-1".utf8))]))
        await connection.close()
        await pusher.shutdown()
        await client.shutdown()
    }
}

@Suite struct CommandBuilderTests {
    /// Short arguments go through a stack buffer in one append, long ones straight in: both encode as RESP does.
    @Test func everyLengthEncodesAsTheArgumentForm() {
        let lengths = [0, 1, 9, 10, 11, 99, 100, 101, 959, 960, 961, 999, 1000, 5000]
        let arguments = lengths.map { n in (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31) } }
        var builder = RedisCommandBuilder(count: 1 + arguments.count)
        builder.append("RPUSH")
        for argument in arguments { builder.append(argument) }
        #expect(builder.command == RedisCommand(["RPUSH"] + arguments.map { RedisArgument(bytes: $0) }))
    }
}
