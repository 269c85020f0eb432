import Logging
import NIOCore
import Synchronization

/// One Redis connection shared by any number of tasks: a NIO channel (TLS when configured) on the process's event
/// loops, no thread of its own. Commands queued by concurrent callers while the event loop was busy go out in one
/// write (pipelining); replies come back in order to each caller. The connection's life is
/// `RedisConnectionStateMachine`: it connects on first use, reconnects after a loss, and fails at once while
/// backing off after a failed connect.
public final class RedisConnection: Sendable {
    public let configuration: RedisConfiguration
    let logger: Logger
    let transport: RedisTransport
    private let state: Mutex<RedisConnectionStateMachine<Link, RedisRequest>>

    init(transport: RedisTransport, logger: Logger) {
        self.transport = transport
        self.configuration = transport.configuration
        self.logger = logger
        self.state = Mutex(.init(
            initialBackoff: transport.configuration.reconnectBackoff, maxBackoff: transport.configuration.maxReconnectBackoff))
    }

    /// Sends commands as one pipeline and returns their replies in order. Error replies are returned as `.error`,
    /// not thrown; connection failures throw `RedisError`; a cancelled caller gets `CancellationError` at once (the
    /// replies are read and dropped when they come; the connection stays usable).
    /// - Parameter timeout: reply timeout for this call instead of the configured one (for blocking commands).
    public func execute(_ commands: [RedisCommand], timeout: Duration? = nil) async throws -> [RedisReply] {
        if commands.isEmpty { return [] }
        let request = RedisRequest(commands: commands, timeout: timeout ?? self.configuration.commandTimeout)
        let replies = try await request.run { self.submit($0) }
        if !self.configuration.sentinels.isEmpty, replies.contains(where: \.isReadOnlyError) {
            // a demoted primary answers writes with READONLY: reconnect (and re-resolve through the sentinels)
            self.logger.warning("redis primary became read-only (failover); reconnecting")
            self.reset()
        }
        return replies
    }

    /// Sends one command; an error reply is thrown as `RedisError` with code `.server`.
    public func send(_ command: RedisCommand, timeout: Duration? = nil) async throws -> RedisReply {
        try await self.execute([command], timeout: timeout)[0].orThrow()
    }

    /// Stops taking commands, lets those in flight finish (within their timeout) and closes the channel.
    public func close() async {
        let action = self.state.withLock { $0.close() }
        guard case .close(let link, let failing) = action else { return }
        for request in failing { request.answer(.failure(RedisError(.closed, "the Redis client is closed"))) }
        guard let link else { return }
        link.channel.eventLoop.execute { link.handler.closeWhenIdle() }
        try? await link.channel.closeFuture.get()
    }

    private func submit(_ request: RedisRequest) {
        let action = self.state.withLock { $0.request(request, now: .now) }
        switch action {
        case .write(let link): link.enqueue(request)
        case .wait: break
        case .connect: Task { await self.connect() }
        case .fail(let error): request.answer(.failure(error))
        }
    }

    private func connect() async {
        do {
            let (channel, handler) = try await self.transport.connect()
            let link = Link(channel: channel, handler: handler)
            let (action, recovered) = self.state.withLock { m in
                let recovered = m.consecutiveFailures > 0  // read before `connected` resets it
                return (m.connected(link), recovered)
            }
            switch action {
            case .write(let link, let waiting):
                if recovered {
                    self.logger.info("redis connected again", metadata: ["redis.url": "\(self.configuration.redactedURL)"])
                }
                channel.closeFuture.whenComplete { _ in self.state.withLock { $0.channelClosed(link) } }
                handler.unsent = { requests in
                    self.state.withLock { $0.channelClosed(link) }
                    for request in requests {
                        if request.resubmitted {
                            request.answer(.failure(RedisError(.connectionLost, "the connection to Redis closed")))
                        } else {
                            request.resubmitted = true
                            self.submit(request)
                        }
                    }
                }
                for request in waiting { link.enqueue(request) }
            case .closeChannel(let channel):
                channel.channel.close(promise: nil)
            }
        } catch {
            let redisError = error as? RedisError ?? RedisError(.connectionFailed, "\(error)")
            let (waiting, first) = self.state.withLock { m in (m.connectFailed(redisError, now: .now), m.consecutiveFailures == 1) }
            if first { self.logger.error("redis connect failed", metadata: ["redis.error": "\(redisError)"]) }
            for request in waiting { request.answer(.failure(redisError)) }
        }
    }

    /// Closes the current channel; the next command connects again.
    func reset() {
        guard case .ready(let link) = self.state.withLock({ $0.state }) else { return }
        link.channel.close(promise: nil)
    }
}

/// A live channel with its handler and the requests waiting to be written on it: callers append; the first one
/// schedules a single write on the event loop, which takes everything appended by then (one flush for many).
final class Link: Equatable, Sendable {
    let channel: any Channel
    let handler: RedisChannelHandler
    private let eventLoop: any EventLoop
    private let outbox = Mutex<(requests: [RedisRequest], scheduled: Bool)>(([], false))

    init(channel: any Channel, handler: RedisChannelHandler) {
        self.channel = channel
        self.handler = handler
        self.eventLoop = channel.eventLoop
    }

    func enqueue(_ request: RedisRequest) {
        let schedule = self.outbox.withLock { box -> Bool in
            box.requests.append(request)
            if box.scheduled { return false }
            box.scheduled = true
            return true
        }
        guard schedule else { return }
        self.eventLoop.execute {
            let batch = self.outbox.withLock { box -> [RedisRequest] in
                box.scheduled = false
                var taken: [RedisRequest] = []
                swap(&taken, &box.requests)
                return taken
            }
            self.handler.write(batch)
        }
    }

    static func == (a: Link, b: Link) -> Bool { a === b }
}

extension RedisReply {
    /// Throws a `.server` `RedisError` for an error reply; returns the reply otherwise.
    public func orThrow() throws -> RedisReply {
        if case .error(let message) = self { throw RedisError(.server, message) }
        return self
    }

    var isReadOnlyError: Bool {
        if case .error(let message) = self { return message.hasPrefix("READONLY") }
        return false
    }
}
