import Logging
import Metrics
import NIOCore
import Synchronization

/// Routes commands to the primary serving their slot: a slot map from `CLUSTER SLOTS`, one set of multiplexed
/// connections per primary, `MOVED` (update the map, send again), `ASK` (`ASKING` + the command, once), `TRYAGAIN`
/// (short waits, bounded by the command timeout). The map is read on first use, and again after a `MOVED`, a lost
/// connection or `CLUSTERDOWN`, not per command. A pipeline must address one slot (its first key decides); after a
/// redirect it is sent again whole, so pipelines are idempotent or one MULTI/EXEC (which a redirect aborts whole).
final class RedisCluster: Sendable {
    let configuration: RedisConfiguration
    private let logger: Logger
    private let group: any EventLoopGroup
    private let state = Mutex(State())

    private struct State {
        var map = RedisClusterMap()
        var nodes: [RedisConfiguration.Endpoint: Node] = [:]
        var refreshing: Task<Void, any Error>?
        var lastRefresh: ContinuousClock.Instant?
        var closed = false
    }

    /// The connections to one node.
    final class Node: Sendable {
        let endpoint: RedisConfiguration.Endpoint
        let connections: [RedisConnection]
        private let counter = Atomic<Int>(0)

        init(_ endpoint: RedisConfiguration.Endpoint, transport: RedisTransport, count: Int, logger: Logger) {
            self.endpoint = endpoint
            self.connections = (0..<count).map { _ in RedisConnection(transport: transport, logger: logger) }
        }

        var connection: RedisConnection {
            if self.connections.count == 1 { return self.connections[0] }
            return self.connections[self.counter.wrappingAdd(1, ordering: .relaxed).oldValue % self.connections.count]
        }

        var host: String { if case .tcp(let host, _) = self.endpoint { host } else { "" } }
    }

    init(configuration: RedisConfiguration, logger: Logger, group: any EventLoopGroup) {
        self.configuration = configuration
        self.logger = logger
        self.group = group
    }

    private func node(_ endpoint: RedisConfiguration.Endpoint) -> Node {
        self.state.withLock { state in
            if let node = state.nodes[endpoint] { return node }
            var c = self.configuration
            c.endpoint = endpoint
            c.clusterNodes = []
            c.sentinels = []
            let node = Node(endpoint, transport: RedisTransport(configuration: c, group: self.group), count: c.connections, logger: self.logger)
            state.nodes[endpoint] = node
            return node
        }
    }

    /// The primary for `slot` (any primary for nil), reading the map first if there is none yet.
    private func primary(for slot: Int?) async throws -> RedisConfiguration.Endpoint {
        if let endpoint = self.state.withLock({ s in slot.map { s.map.primary(forSlot: $0) } ?? s.map.primaries.first }) {
            return endpoint
        }
        try await self.refresh()
        let endpoint = self.state.withLock { s in slot.map { s.map.primary(forSlot: $0) } ?? s.map.primaries.first }
        guard let endpoint else {
            self.refreshSoon()
            throw RedisError(.connectionFailed, "no primary serves slot \(slot.map(String.init) ?? "-") (cluster not covering every slot?)")
        }
        return endpoint
    }

    func primary(forSlot slot: Int) async throws -> RedisConfiguration.Endpoint { try await self.primary(for: slot) }

    /// Sends `commands` to the primary of their slot, following redirects.
    func execute(_ commands: [RedisCommand], timeout: Duration?) async throws -> [RedisReply] {
        let slot = commands.lazy.compactMap(\.slot).first
        var target = try await self.primary(for: slot)
        var asking = false
        var redirects = 0
        let deadline = ContinuousClock.now + (timeout ?? self.configuration.commandTimeout)
        while true {
            let node = self.node(target)
            var replies: [RedisReply]
            do {
                replies = try await node.connection.execute(asking ? [RedisCommand("ASKING")] + commands : commands, timeout: timeout)
            } catch let error as RedisError where error.isUnavailable {
                self.refreshSoon()
                throw error
            }
            if asking { replies.removeFirst() }
            asking = false
            guard let redirect = Self.redirect(in: replies, askedHost: node.host) else {
                if replies.contains(where: { if case .error(let m) = $0 { m.hasPrefix("CLUSTERDOWN") } else { false } }) {
                    self.refreshSoon()
                }
                return replies
            }
            redirects += 1
            guard redirects <= 16, ContinuousClock.now < deadline else { return replies }  // the caller sees the error
            switch redirect {
            case .moved(let movedSlot, let to):
                Counter(label: "redis_cluster_redirects_total", dimensions: [("kind", "moved")]).increment()
                self.state.withLock { $0.map.assign(movedSlot, to: to) }
                self.refreshSoon()
                target = to
            case .ask(_, let to):
                Counter(label: "redis_cluster_redirects_total", dimensions: [("kind", "ask")]).increment()
                if commands.count == 1 {
                    target = to
                    asking = true
                } else {  // ASKING covers one command: wait for the slot's migration to finish (then MOVED)
                    try await Task.sleep(for: Self.backoff(redirects))
                }
            case .tryAgain:
                Counter(label: "redis_cluster_redirects_total", dimensions: [("kind", "tryagain")]).increment()
                try await Task.sleep(for: Self.backoff(redirects))
                target = try await self.primary(for: slot)
            }
        }
    }

    private static func backoff(_ n: Int) -> Duration { .milliseconds(min(200, 5 << min(n, 6))) }

    private static func redirect(in replies: [RedisReply], askedHost: String) -> RedisRedirect? {
        for reply in replies {
            if case .error(let message) = reply, let redirect = RedisRedirect(error: message, askedHost: askedHost) {
                return redirect
            }
        }
        return nil
    }

    /// Sends each command to the primary of its own slot: the commands for one primary go out as one pipeline, the
    /// primaries' pipelines concurrently. A command answered with a redirect is sent again alone, following it.
    /// Results in the order of `commands`: a primary that fails does not stop the others (their commands ran).
    func scatter(_ commands: [RedisCommand], timeout: Duration?) async -> [Result<RedisReply, any Error>] {
        var groups: [RedisConfiguration.Endpoint?: [Int]] = [:]
        for (i, command) in commands.enumerated() {
            groups[try? await self.primary(for: command.slot), default: []].append(i)
        }
        var results = [Result<RedisReply, any Error>](repeating: .success(.null), count: commands.count)
        await withTaskGroup(of: [(Int, Result<RedisReply, any Error>)].self) { group in
            for (endpoint, indices) in groups {
                group.addTask {
                    guard let endpoint else {
                        return indices.map { ($0, .failure(RedisError(.connectionFailed, "no primary serves the slot"))) }
                    }
                    let node = self.node(endpoint)
                    let answers: [RedisReply]
                    do {
                        answers = try await node.connection.execute(indices.map { commands[$0] }, timeout: timeout)
                    } catch {
                        if (error as? RedisError)?.isUnavailable == true { self.refreshSoon() }
                        return indices.map { ($0, .failure(error)) }
                    }
                    var out: [(Int, Result<RedisReply, any Error>)] = []
                    for (i, answer) in zip(indices, answers) {
                        if Self.redirect(in: [answer], askedHost: node.host) != nil {  // moved meanwhile: alone, following it
                            do { out.append((i, .success(try await self.execute([commands[i]], timeout: timeout)[0]))) } catch {
                                out.append((i, .failure(error)))
                            }
                        } else {
                            out.append((i, .success(answer)))
                        }
                    }
                    return out
                }
            }
            for await part in group { for (i, result) in part { results[i] = result } }
        }
        return results
    }

    /// Sends `commands` to one node, without redirects (per-node work: script loads, INFO, SCAN).
    func execute(_ commands: [RedisCommand], on endpoint: RedisConfiguration.Endpoint) async throws -> [RedisReply] {
        try await self.node(endpoint).connection.execute(commands)
    }

    /// The primaries of the current map (reading it first if needed).
    func primaries() async throws -> [RedisConfiguration.Endpoint] {
        _ = try await self.primary(for: nil)
        return self.state.withLock { state in
            let slots = state.map.slotsPerPrimary
            return state.map.primaries.filter { slots[$0, default: 0] > 0 }
        }
    }

    var slotsPerPrimary: [RedisConfiguration.Endpoint: Int] { self.state.withLock { $0.map.slotsPerPrimary } }

    /// Reads the slot map from the first node that answers (known primaries, then the seeds). Concurrent callers
    /// share one read.
    func refresh() async throws {
        let task = self.state.withLock { state -> Task<Void, any Error> in
            if let running = state.refreshing { return running }
            let task = Task { try await self.readMap() }
            state.refreshing = task
            return task
        }
        defer { self.state.withLock { if $0.refreshing == task { $0.refreshing = nil } } }
        try await task.value
    }

    /// A refresh in the background, at most every 100 ms.
    private func refreshSoon() {
        let start = self.state.withLock { state -> Bool in
            if state.closed || state.refreshing != nil { return false }
            if let last = state.lastRefresh, ContinuousClock.now - last < .milliseconds(100) { return false }
            state.lastRefresh = .now
            return true
        }
        if start { Task { try? await self.refresh() } }
    }

    private func readMap() async throws {
        var candidates = self.state.withLock { $0.map.primaries }
        for seed in self.configuration.clusterNodes where !candidates.contains(seed) { candidates.append(seed) }
        var problems: [String] = []
        for endpoint in candidates {
            let node = self.node(endpoint)
            do {
                let reply = try await node.connection.send(RedisCommand("CLUSTER", "SLOTS"))
                let map = try RedisClusterMap(slots: reply, askedHost: node.host)
                guard !map.primaries.isEmpty else {
                    problems.append("\(endpoint.text): no slots assigned")
                    continue
                }
                let changed = self.state.withLock { state -> Bool in
                    state.lastRefresh = .now
                    defer { state.map = map }
                    return state.map != map
                }
                if changed {
                    self.logger.info("redis cluster map read", metadata: [
                        "redis.primaries": "\(map.primaries.map(\.text).joined(separator: ","))",
                        "redis.covered": "\(map.coversAllSlots)",
                    ])
                }
                return
            } catch {
                problems.append("\(endpoint.text): \((error as? RedisError)?.message ?? "\(error)")")
            }
        }
        throw RedisError(.connectionFailed, "no cluster node gave its slot map: " + problems.joined(separator: "; "))
    }

    func shutdown() async {
        let nodes = self.state.withLock { state -> [Node] in
            state.closed = true
            return Array(state.nodes.values)
        }
        for node in nodes {
            for connection in node.connections { await connection.close() }
        }
    }
}
