import Logging

/// The I/O thread's side of a connection: connect with backoff, write a batch, read its replies in order.
struct ConnectionState {
    private let configuration: RedisConfiguration
    private var context: HiredisContext?
    private var backoff: Duration
    private var nextAttempt: ContinuousClock.Instant?
    private var lastError: RedisError?

    init(configuration: RedisConfiguration) {
        self.configuration = configuration
        self.backoff = configuration.reconnectBackoff
    }

    mutating func disconnect() { self.context = nil }

    mutating func process(_ batch: [RedisConnection.Pending], logger: Logger) {
        let context: HiredisContext
        switch self.connect(logger: logger) {
        case .failure(let error):
            for pending in batch { pending.continuation.resume(throwing: error) }
            return
        case .success(let c):
            context = c
        }
        let longest = batch.lazy.compactMap(\.timeout).max()
        context.setTimeout(longest.map { max($0, self.configuration.commandTimeout) } ?? self.configuration.commandTimeout)
        for pending in batch {
            for command in pending.commands { context.append(command) }
        }
        for (index, pending) in batch.enumerated() {
            var replies: [RedisReply] = []
            replies.reserveCapacity(pending.commands.count)
            do {
                for _ in pending.commands { replies.append(try context.readReply()) }
            } catch {
                let redisError = error as? RedisError ?? RedisError(.connectionLost, "\(error)")
                logger.warning(
                    "redis connection reset",
                    metadata: ["redis.error": "\(redisError)", "redis.failed_calls": "\(batch.count - index)"]
                )
                self.context = nil
                for failed in batch[index...] { failed.continuation.resume(throwing: redisError) }
                return
            }
            // A demoted primary answers writes with READONLY: reconnect (and re-resolve through the sentinels).
            if !self.configuration.sentinels.isEmpty, replies.contains(where: { if case .error(let m) = $0 { m.hasPrefix("READONLY") } else { false } }) {
                logger.warning("redis primary became read-only (failover); reconnecting")
                self.context = nil
            }
            pending.continuation.resume(returning: replies)
        }
    }

    /// A connection to the configured server, or to the primary the sentinels name (checked with ROLE).
    private func connectToPrimary() throws -> HiredisContext {
        guard !self.configuration.sentinels.isEmpty, let name = self.configuration.masterName else {
            return try HiredisContext(configuration: self.configuration)
        }
        var problems: [String] = []
        for sentinel in self.configuration.sentinels {
            var asSentinel = self.configuration
            asSentinel.endpoint = sentinel
            asSentinel.username = nil
            asSentinel.password = self.configuration.sentinelPassword
            asSentinel.database = 0
            do {
                let context = try HiredisContext(configuration: asSentinel)
                context.append(RedisCommand("SENTINEL", "get-master-addr-by-name", RedisArgument(name)))
                guard let address = try context.readReply().array, address.count == 2, let host = address[0].string,
                    let port = address[1].int, (1...65535).contains(port)
                else {
                    problems.append("\(sentinel): does not know \(name)")
                    continue
                }
                var primary = self.configuration
                primary.endpoint = .tcp(host: host, port: Int(port))
                let check = try HiredisContext(configuration: primary)
                check.append(RedisCommand("ROLE"))
                guard try check.readReply().array?.first?.string == "master" else {
                    problems.append("\(host):\(port) named by \(sentinel) is not a primary (failover under way?)")
                    continue
                }
                return check
            } catch {
                problems.append("\(sentinel): \(error)")
            }
        }
        throw RedisError(.connectionFailed, "no primary for \(name) through the sentinels: " + problems.joined(separator: "; "))
    }

    /// The live context, reconnecting when needed. Within the backoff window after a failure, fails at once.
    private mutating func connect(logger: Logger) -> Result<HiredisContext, RedisError> {
        if let context = self.context {
            if !context.isStale { return .success(context) }
            logger.info("redis connection closed by the server; reconnecting")
            self.context = nil
        }
        let now = ContinuousClock.now
        if let next = self.nextAttempt, now < next, let error = self.lastError {
            return .failure(error)
        }
        do {
            let context = try self.connectToPrimary()
            if self.lastError != nil {
                logger.info("redis reconnected", metadata: ["redis.url": "\(self.configuration.redactedURL)"])
            }
            self.context = context
            self.lastError = nil
            self.nextAttempt = nil
            self.backoff = self.configuration.reconnectBackoff
            return .success(context)
        } catch {
            let redisError = error as? RedisError ?? RedisError(.connectionFailed, "\(error)")
            if self.lastError == nil {
                logger.error("redis connect failed", metadata: ["redis.error": "\(redisError)"])
            }
            self.lastError = redisError
            self.nextAttempt = now + self.backoff
            self.backoff = min(self.backoff * 2, self.configuration.maxReconnectBackoff)
            return .failure(redisError)
        }
    }
}
