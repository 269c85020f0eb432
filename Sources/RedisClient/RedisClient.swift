import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A Redis client for many concurrent tasks: a few multiplexed connections, each pipelining every command queued
/// while the previous round trip was under way. Run it in a `ServiceGroup` so shutdown closes its connections.
public final class RedisClient: Service, Sendable {
    public let configuration: RedisConfiguration
    private let connections: [RedisConnection]
    private let counter = Atomic<Int>(0)
    private let logger: Logger
    private let transport: RedisTransport

    /// - Parameter eventLoopGroup: the loops its channels run on; by default the process-wide NIO singleton, which
    ///   Hummingbird and AsyncHTTPClient share, so Redis I/O adds no threads.
    public init(configuration: RedisConfiguration, logger: Logger, eventLoopGroup: (any EventLoopGroup)? = nil) {
        self.configuration = configuration
        self.logger = logger
        let transport = eventLoopGroup.map { RedisTransport(configuration: configuration, group: $0) }
            ?? RedisTransport(configuration: configuration)
        self.transport = transport
        self.connections = (0..<configuration.connections).map { _ in RedisConnection(transport: transport, logger: logger) }
    }

    private var connection: RedisConnection {
        if self.connections.count == 1 { return self.connections[0] }
        let n = self.counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return self.connections[n % self.connections.count]
    }

    /// Sends one command; an error reply is thrown as `RedisError` (`.server`).
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        try await self.connection.send(command)
    }

    @discardableResult
    public func send(_ arguments: RedisArgument...) async throws -> RedisReply {
        try await self.connection.send(RedisCommand(arguments))
    }

    /// Sends commands in one round trip; replies come back in order, error replies as `.error` values.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        try await self.connection.execute(commands)
    }

    /// Runs a script by SHA (`EVALSHA`). On `NOSCRIPT` (after a Redis restart or `SCRIPT FLUSH`) it loads the
    /// script and retries in the same round trip.
    public func evaluate(_ script: RedisScript, keys: [RedisArgument], arguments: [RedisArgument]) async throws
        -> RedisReply
    {
        try await self.evaluate(
            script, call: Self.call(script, keys: keys, arguments: arguments))
    }

    /// Runs `call`, an `EVALSHA` of `script` (built with `RedisCommandBuilder(evaluating:)`), loading the script on
    /// `NOSCRIPT` like `evaluate(_:keys:arguments:)`.
    public func evaluate(_ script: RedisScript, call: RedisCommand) async throws -> RedisReply {
        try await self.execute(script, [call])[0].orThrow()
    }

    /// Runs a script, then `WAIT replicas timeout` on the same connection in the same round trip: the reply and how
    /// many replicas acknowledged the writes. Throws `.unavailable`-class errors like `evaluate`.
    public func evaluate(
        _ script: RedisScript, keys: [RedisArgument], arguments: [RedisArgument], waitForReplicas replicas: Int,
        timeout: Duration
    ) async throws -> (reply: RedisReply, replicas: Int) {
        try await self.evaluate(
            script, call: Self.call(script, keys: keys, arguments: arguments),
            waitForReplicas: replicas, timeout: timeout)
    }

    /// `evaluate(_:call:)`, then `WAIT replicas timeout` in the same round trip.
    public func evaluate(_ script: RedisScript, call: RedisCommand, waitForReplicas replicas: Int, timeout: Duration)
        async throws -> (reply: RedisReply, replicas: Int)
    {
        let milliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        let wait = RedisCommand("WAIT", RedisArgument(replicas), RedisArgument(milliseconds))
        let replies = try await self.execute(script, [call, wait], timeout: timeout + self.configuration.commandTimeout)
        return (try replies[0].orThrow(), Int(try replies[1].orThrow().int ?? 0))
    }

    /// `EVALSHA sha numkeys keys... arguments...`
    private static func call(_ script: RedisScript, keys: [RedisArgument], arguments: [RedisArgument]) -> RedisCommand {
        RedisCommand(parts: ["EVALSHA", RedisArgument(script.sha1), RedisArgument(keys.count)], keys, arguments)
    }

    /// Sends `commands` (a script call first) on one connection in one round trip. On `NOSCRIPT` (after a Redis
    /// restart or `SCRIPT FLUSH`) it loads the script and sends them again in the same round trip as the load.
    private func execute(_ script: RedisScript, _ commands: [RedisCommand], timeout: Duration? = nil) async throws
        -> [RedisReply]
    {
        let connection = self.connection
        let replies = try await connection.execute(commands, timeout: timeout)
        guard case .error(let message) = replies[0], message.hasPrefix("NOSCRIPT") else { return replies }
        self.logger.debug("script not cached by redis; loading", metadata: ["redis.script": "\(script.sha1)"])
        let load = RedisCommand("SCRIPT", "LOAD", RedisArgument(script.source))
        let again = try await connection.execute([load] + commands, timeout: timeout)
        _ = try again[0].orThrow()
        return Array(again.dropFirst())
    }

    /// Loads a script so that it is cached (e.g. at start-up).
    public func load(_ script: RedisScript) async throws {
        try await self.send("SCRIPT", "LOAD", RedisArgument(script.source))
    }

    /// True when Redis has the script cached.
    public func isLoaded(_ script: RedisScript) async throws -> Bool {
        let reply = try await self.send("SCRIPT", "EXISTS", RedisArgument(script.sha1))
        return reply.array?.first?.int == 1
    }

    /// A connection of its own (a channel, not a thread), for blocking commands (BLMOVE, BLPOP) that must not hold up
    /// shared traffic. Pass the blocking time plus a margin as `timeout` to `send`. Close it when done.
    public func makeDedicatedConnection() -> RedisConnection {
        RedisConnection(transport: self.transport, logger: self.logger)
    }

    /// Closes every connection after the commands already queued.
    public func shutdown() async {
        for connection in self.connections { await connection.close() }
    }

    /// Waits for graceful shutdown, then closes the connections.
    public func run() async throws {
        try? await gracefulShutdown()
        await self.shutdown()
    }
}
