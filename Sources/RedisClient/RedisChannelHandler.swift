import NIOCore

/// The last handler of a Redis channel: writes the requests handed to it (all commands of a batch in one buffer, one
/// flush), parses replies with hiredis's reader and answers each request in order. A request past its deadline
/// fails every request in flight with `.timeout` and closes the channel (its replies could no longer be matched);
/// a closed or broken channel fails them with `.connectionLost`. Event-loop confined.
final class RedisChannelHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let reader = RedisReplyReader()
    private var pending = CircularBuffer<RedisRequest>(initialCapacity: 64)
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var failure: RedisError?
    private var closing = false

    init() {}

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Called with requests that were never written because the channel had closed (a server restart or an idle
    /// timeout noticed only now): they can safely go out on a new connection. Without it they fail.
    var unsent: (([RedisRequest]) -> Void)?

    /// Writes `requests` in one flush. Call on the channel's event loop.
    func write(_ requests: some Collection<RedisRequest>) {
        guard let context = self.context, self.failure == nil, context.channel.isActive else {
            if let unsent = self.unsent {
                unsent(Array(requests))
            } else {
                let error = self.failure ?? RedisError(.connectionLost, "the connection to Redis closed")
                for request in requests { request.answer(.failure(error)) }
            }
            return
        }
        var size = 0
        for request in requests {
            for command in request.commands { size += command.encoded.count }
        }
        var buffer = context.channel.allocator.buffer(capacity: size)
        let now = NIODeadline.now()
        for request in requests {
            request.written(at: now)
            for command in request.commands { buffer.writeBytes(command.encoded) }
            self.pending.append(request)
        }
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        if self.timer == nil, let first = self.pending.first { self.arm(first.deadline, context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        do {
            try self.reader.feed(buffer)
            while let reply = try self.reader.next() {
                guard let request = self.pending.first else {
                    throw RedisError(.connectionLost, "a reply from Redis that no command asked for")
                }
                request.replies.append(reply)
                if request.isComplete {
                    self.pending.removeFirst()
                    request.answer(.success(request.replies))
                }
            }
            if self.closing && self.pending.isEmpty { context.close(promise: nil) }
        } catch {
            self.fail(error as? RedisError ?? RedisError(.connectionLost, "\(error)"), context: context)
        }
    }

    /// Closes the channel once every request in flight is answered (each within its timeout).
    func closeWhenIdle() {
        guard let context = self.context else { return }
        self.closing = true
        if self.pending.isEmpty { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.fail(RedisError(.connectionLost, "the connection to Redis closed"), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(RedisError(.connectionLost, RedisTransport.describe(error)), context: context)
    }

    /// Fails everything in flight and closes the channel; later writes fail at once.
    private func fail(_ error: RedisError, context: ChannelHandlerContext) {
        if self.failure == nil { self.failure = error }
        self.timer?.cancel()
        self.timer = nil
        while let request = self.pending.popFirst() { request.answer(.failure(error)) }
        context.close(promise: nil)
    }

    /// One timer for the oldest request in flight; when it fires early (that request was answered), it re-arms for
    /// the next one. At most one scheduled task per connection, whatever the request rate.
    private func arm(_ deadline: NIODeadline, context: ChannelHandlerContext) {
        self.timer = context.eventLoop.scheduleTask(deadline: deadline) { [self] in
            self.timer = nil
            guard let context = self.context, let first = self.pending.first else { return }
            if first.deadline <= .now() {
                self.fail(RedisError(.timeout, "no reply within \(first.timeout)"), context: context)
            } else {
                self.arm(first.deadline, context: context)
            }
        }
    }
}
