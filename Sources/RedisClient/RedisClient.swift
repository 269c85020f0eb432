import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A Redis client for many concurrent tasks: a few multiplexed connections, each pipelining every command queued
/// while the previous round trip was under way. Run it in a `ServiceGroup` so shutdown closes its connections.
public final class RedisClient: Service, Sendable {
    public let configuration: RedisConfiguration
    private let connections: [RedisConnection]
    /// Set for a Redis Cluster (`configuration.clusterNodes`): commands go to the primary of their slot.
    private let cluster: RedisCluster?
    private let counter = Atomic<Int>(0)
    private let logger: Logger
    private let transport: RedisTransport

    /// - Parameter eventLoopGroup: the loops its channels run on; by default the process-wide NIO singleton, which
    ///   Hummingbird and the worker's HTTP clients share, so Redis I/O adds no threads.
    public init(configuration: RedisConfiguration, logger: Logger, eventLoopGroup: (any EventLoopGroup)? = nil) {
        self.configuration = configuration
        self.logger = logger
        let group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        var single = configuration
        if let seed = configuration.clusterNodes.first { single.endpoint = seed }  // dedicated connections
        let transport = RedisTransport(configuration: single, group: group)
        self.transport = transport
        if configuration.clusterNodes.isEmpty {
            self.cluster = nil
            self.connections = (0..<configuration.connections).map { _ in RedisConnection(transport: transport, logger: logger) }
        } else {
            self.cluster = RedisCluster(configuration: configuration, logger: logger, group: group)
            self.connections = []
        }
    }

    /// True for a Redis Cluster.
    public var isCluster: Bool { self.cluster != nil }

    private var connection: RedisConnection {
        if self.connections.count == 1 { return self.connections[0] }
        let n = self.counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return self.connections[n % self.connections.count]
    }

    /// Runs commands on the server, or on the cluster primary of their slot (their first key's).
    private func run(_ commands: [RedisCommand], timeout: Duration? = nil) async throws -> [RedisReply] {
        if let cluster = self.cluster { return try await cluster.execute(commands, timeout: timeout) }
        return try await self.connection.execute(commands, timeout: timeout)
    }

    /// Sends one command; an error reply is thrown as `RedisError` (`.server`).
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        try await self.run([command])[0].orThrow()
    }

    @discardableResult
    public func send(_ arguments: RedisArgument...) async throws -> RedisReply {
        try await self.run([RedisCommand(arguments)])[0].orThrow()
    }

    /// Sends commands in one round trip; replies come back in order, error replies as `.error` values.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        try await self.run(commands)
    }

    /// Runs a script by SHA (`EVALSHA`). On `NOSCRIPT` (after a Redis restart or `SCRIPT FLUSH`) it loads the
    /// script and retries in the same round trip.
    public func evaluate(_ script: RedisScript, keys: [RedisArgument], arguments: [RedisArgument]) async throws
        -> RedisReply
    {
        try await self.evaluate(
            script, call: script.call(keys: keys, arguments: arguments))
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
            script, call: script.call(keys: keys, arguments: arguments),
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

    /// Sends `commands` (a script call first) on one connection in one round trip. On `NOSCRIPT` (after a Redis
    /// restart or `SCRIPT FLUSH`) it loads the script and sends them again in the same round trip as the load.
    private func execute(_ script: RedisScript, _ commands: [RedisCommand], timeout: Duration? = nil) async throws
        -> [RedisReply]
    {
        // A cluster routes the load (no key) with the script call (its first key): both reach the same node.
        let replies = try await self.run(commands, timeout: timeout)
        guard case .error(let message) = replies[0], message.hasPrefix("NOSCRIPT") else { return replies }
        self.logger.debug("script not cached by redis; loading", metadata: ["redis.script": "\(script.sha1)"])
        let load = RedisCommand("SCRIPT", "LOAD", RedisArgument(script.source))
        let again = try await self.run([load] + commands, timeout: timeout)
        _ = try again[0].orThrow()
        return Array(again.dropFirst())
    }

    /// Script calls on possibly different slots (`EVALSHA`s of `script`, e.g. one per shard of a batch): on a cluster
    /// the calls for one primary go out as one pipeline and the primaries are asked concurrently (a redirected call is
    /// sent again alone); on one server, one pipeline. A call answered `NOSCRIPT` is sent again after loading the
    /// script on its node. Results in order (error replies as `.error`); a primary that fails does not stop the others.
    public func evaluateEach(_ script: RedisScript, calls: [RedisCommand]) async -> [Result<RedisReply, any Error>] {
        var results: [Result<RedisReply, any Error>]
        if let cluster = self.cluster {
            results = await cluster.scatter(calls, timeout: nil)
        } else {
            do {
                results = try await self.connection.execute(calls).map { .success($0) }
            } catch {
                results = calls.map { _ in .failure(error) }
            }
        }
        for i in results.indices {
            if case .success(.error(let message)) = results[i], message.hasPrefix("NOSCRIPT") {
                do { results[i] = .success(try await self.execute(script, [calls[i]])[0]) } catch { results[i] = .failure(error) }
            }
        }
        return results
    }

    /// Loads a script so that it is cached (e.g. at start-up); on every primary of a cluster.
    public func load(_ script: RedisScript) async throws {
        for reply in try await self.onEachPrimary(RedisCommand("SCRIPT", "LOAD", RedisArgument(script.source))) {
            _ = try reply.orThrow()
        }
    }

    /// True when Redis (every primary of a cluster) has the script cached.
    public func isLoaded(_ script: RedisScript) async throws -> Bool {
        try await self.onEachPrimary(RedisCommand("SCRIPT", "EXISTS", RedisArgument(script.sha1)))
            .allSatisfy { $0.array?.first?.int == 1 }
    }

    /// Runs a command without keys on the server, or on every primary of a cluster (INFO, SCAN, SCRIPT, DBSIZE):
    /// one reply per primary, in `primaries()` order. Error replies are returned, not thrown.
    public func onEachPrimary(_ command: RedisCommand) async throws -> [RedisReply] {
        guard let cluster = self.cluster else { return try await self.connection.execute([command]) }
        var replies: [RedisReply] = []
        for primary in try await cluster.primaries() {
            replies.append(try await cluster.execute([command], on: primary)[0])
        }
        return replies
    }

    /// The primaries: the server itself, or the cluster's primaries with the slots each serves (map read if needed).
    public func primaries() async throws -> [(endpoint: String, slots: Int)] {
        guard let cluster = self.cluster else { return [(self.configuration.redactedURL, RedisClusterSlot.count)] }
        let primaries = try await cluster.primaries()
        let slots = cluster.slotsPerPrimary
        return primaries.map { ($0.text, slots[$0] ?? 0) }
    }

    /// The primary serving `key` (host:port in a cluster; the URL of a single server), for tools and reports.
    public func primary(ofKey key: String) async throws -> String {
        guard let cluster = self.cluster else { return self.configuration.redactedURL }
        return try await cluster.primary(forSlot: RedisClusterSlot.of(key)).text
    }

    /// Reads the cluster's slot map again now (after a resharding, for tools); nothing for a single server.
    public func refreshClusterMap() async throws { try await self.cluster?.refresh() }

    /// A connection of its own (a channel, not a thread), for blocking commands (BLMOVE, BLPOP) that must not hold up
    /// shared traffic. Pass the blocking time plus a margin as `timeout` to `send`. Close it when done. In a cluster it
    /// reaches the first seed node and is not routed (cluster callers poll with `send` instead).
    public func makeDedicatedConnection() -> RedisConnection {
        RedisConnection(transport: self.transport, logger: self.logger)
    }

    /// Closes every connection after the commands already queued.
    public func shutdown() async {
        for connection in self.connections { await connection.close() }
        await self.cluster?.shutdown()
    }

    /// Waits for graceful shutdown, then closes the connections.
    public func run() async throws {
        try? await gracefulShutdown()
        await self.shutdown()
    }
}
