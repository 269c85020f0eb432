import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// One keep-alive connection of an `HTTP1Client`: one request at a time.
final class HTTP1Connection: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<HTTP1AnswerHandler>
    private let lastUsed: Mutex<ContinuousClock.Instant>

    private init(channel: any Channel, handler: NIOLoopBound<HTTP1AnswerHandler>) {
        self.channel = channel
        self.handler = handler
        self.lastUsed = Mutex(.now)
    }

    static func connect(_ target: HTTP1Target, group: any EventLoopGroup, timeout: Duration, bodyLimit: Int) async throws
        -> HTTP1Connection
    {
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(max(TimeAmount(timeout), .milliseconds(1)))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let context = target.tls {
                        try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: target.serverName))
                    }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(HTTP1AnswerHandler(bodyLimit: bodyLimit))
                }
            }
            .connect(host: target.host, port: target.port).get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: HTTP1AnswerHandler.self), eventLoop: channel.eventLoop)
        }.get()
        return HTTP1Connection(channel: channel, handler: handler)
    }

    /// Open, and used within `idle`: worth a request (a server drops idle keep-alives after a while).
    func isReusable(within idle: Duration) -> Bool {
        self.channel.isActive && ContinuousClock.now - self.lastUsed.withLock { $0 } < idle
    }

    /// Writes the request (head, body and end in one flush) and waits for the answer; cancelling closes the channel.
    func send(_ head: HTTPRequestHead, body: [UInt8]) async throws -> HTTP1Client.Answer {
        let channel = self.channel
        let handler = self.handler
        let promise = channel.eventLoop.makePromise(of: HTTP1Client.Answer.self)
        var buffer = channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        let payload = buffer
        channel.eventLoop.execute {
            handler.value.expect(promise)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(payload)), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
        defer { self.lastUsed.withLock { $0 = .now } }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

/// Collects one answer at a time on the connection's event loop. A failed write or a reset closes the channel; a
/// close before the answer's status fails the request, after it the request gets what arrived (`complete: false`).
final class HTTP1AnswerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let bodyLimit: Int
    private var promise: EventLoopPromise<HTTP1Client.Answer>?
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    private var closed = false

    init(bodyLimit: Int) { self.bodyLimit = bodyLimit }

    func expect(_ promise: EventLoopPromise<HTTP1Client.Answer>) {
        if self.closed {
            promise.fail(HTTP1ClientError.closed)
            return
        }
        self.promise = promise
        self.head = nil
        self.body.removeAll(keepingCapacity: true)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(let part):
            let room = self.bodyLimit - self.body.count
            if room > 0 { self.body.append(contentsOf: part.readableBytesView.prefix(room)) }
        case .end:
            guard let head = self.head, let promise = self.promise else {
                context.close(promise: nil)  // an answer nobody asked for
                return
            }
            self.promise = nil
            promise.succeed(self.answer(head, complete: true))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.closed = true
        if let promise = self.promise {
            self.promise = nil
            if let head = self.head {
                promise.succeed(self.answer(head, complete: false))
            } else {
                promise.fail(HTTP1ClientError.closed)
            }
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func answer(_ head: HTTPResponseHead, complete: Bool) -> HTTP1Client.Answer {
        HTTP1Client.Answer(
            status: Int(head.status.code), headers: head.headers, body: self.body, complete: complete,
            keepAlive: head.isKeepAlive)
    }
}
