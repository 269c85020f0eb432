internal import CHiredis
import Foundation
import Logging

/// One Redis connection shared by any number of tasks.
///
/// Commands from concurrent callers are queued; a dedicated I/O thread takes everything queued, writes it in one
/// go and reads the replies in order, handing each caller its own. hiredis blocks, so it runs only on that thread,
/// never on a NIO event loop or the Swift cooperative pool.
public final class RedisConnection: @unchecked Sendable {
    struct Pending {
        let commands: [RedisCommand]
        let timeout: Duration?
        let continuation: UnsafeContinuation<[RedisReply], any Error>
    }

    public let configuration: RedisConfiguration
    let logger: Logger
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var closed = false
    private var exitWaiters: [UnsafeContinuation<Void, Never>] = []
    private var exited = false
    // Owned by the I/O thread.
    private var state: ConnectionState

    init(configuration: RedisConfiguration, logger: Logger, name: String) {
        self.configuration = configuration
        self.logger = logger
        self.state = ConnectionState(configuration: configuration)
        let thread = Thread { [self] in
            chiredis_name_thread(String(name.prefix(15)))
            self.runLoop()
        }
        thread.name = name
        thread.start()
    }

    /// Sends commands as one pipeline and returns their replies in order. Error replies are returned as
    /// `.error`, not thrown; connection failures throw `RedisError`.
    /// - Parameter timeout: reply timeout for this call instead of the configured one (for blocking commands).
    public func execute(_ commands: [RedisCommand], timeout: Duration? = nil) async throws -> [RedisReply] {
        if commands.isEmpty { return [] }
        return try await withUnsafeThrowingContinuation { continuation in
            self.condition.lock()
            if self.closed {
                self.condition.unlock()
                continuation.resume(throwing: RedisError(.closed, "the Redis client is closed"))
                return
            }
            self.queue.append(Pending(commands: commands, timeout: timeout, continuation: continuation))
            if self.queue.count == 1 { self.condition.signal() }
            self.condition.unlock()
        }
    }

    /// Sends one command; an error reply is thrown as `RedisError` with code `.server`.
    public func send(_ command: RedisCommand, timeout: Duration? = nil) async throws -> RedisReply {
        try await self.execute([command], timeout: timeout)[0].orThrow()
    }

    /// Stops taking commands, finishes what is queued, closes the socket and waits for the I/O thread to end.
    public func close() async {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            self.condition.lock()
            self.closed = true
            if self.exited {
                self.condition.unlock()
                continuation.resume()
                return
            }
            self.exitWaiters.append(continuation)
            self.condition.signal()
            self.condition.unlock()
        }
    }

    // MARK: I/O thread

    private func runLoop() {
        var batch: [Pending] = []
        while true {
            self.condition.lock()
            while self.queue.isEmpty && !self.closed { self.condition.wait() }
            if self.queue.isEmpty {
                self.exited = true
                let waiters = self.exitWaiters
                self.exitWaiters = []
                self.condition.unlock()
                self.state.disconnect()
                for waiter in waiters { waiter.resume() }
                return
            }
            self.takeBatch(into: &batch)
            self.condition.unlock()
            self.state.process(batch, logger: self.logger)
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// Moves up to `maxBatch` commands from the queue (always at least one call). Caller holds the lock.
    private func takeBatch(into batch: inout [Pending]) {
        var commands = 0
        var taken = 0
        for pending in self.queue {
            if taken > 0 && commands + pending.commands.count > self.configuration.maxBatch { break }
            commands += pending.commands.count
            taken += 1
        }
        if taken == self.queue.count {
            swap(&batch, &self.queue)
        } else {
            batch.append(contentsOf: self.queue[..<taken])
            self.queue.removeFirst(taken)
        }
    }
}

extension RedisReply {
    /// Throws a `.server` `RedisError` for an error reply; returns the reply otherwise.
    public func orThrow() throws -> RedisReply {
        if case .error(let message) = self { throw RedisError(.server, message) }
        return self
    }
}
