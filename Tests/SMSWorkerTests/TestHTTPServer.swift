import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// An HTTP/1.1 server on 127.0.0.1 for the client's tests, plain or TLS: counts the connections it accepts, records
/// each request and answers what `reply` says for the request's index.
final class TestHTTPServer: Sendable {
    struct Reply: Sendable {
        var status: HTTPResponseStatus = .ok
        var body = ""
        var chunked = false
        /// `Connection: close`, then closes after the answer.
        var close = false
        var delay: TimeAmount = .zero
        /// No answer: the connection is closed once the request is read.
        var drop = false
    }

    struct Request: Sendable {
        let head: HTTPRequestHead
        let body: String
    }

    let connections = Mutex(0)
    let requests = Mutex<[Request]>([])
    private let reply: @Sendable (Int) -> Reply
    private let channel = Mutex<(any Channel)?>(nil)

    var port: Int { self.channel.withLock { $0?.localAddress?.port ?? 0 } }

    init(reply: @escaping @Sendable (Int) -> Reply = { _ in Reply() }) {
        self.reply = reply
    }

    func start(tls: NIOSSLContext? = nil) async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                self.connections.withLock { $0 += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    try sync.configureHTTPServerPipeline()
                    try sync.addHandler(Handler(server: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.channel.withLock { $0 = channel }
    }

    func stop() async {
        try? await self.channel.withLock { $0 }?.close()
    }

    /// Records each request and answers it (or, `drop`, closes the connection without an answer).
    final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: TestHTTPServer
        private let state = Mutex<(head: HTTPRequestHead?, body: String)>((nil, ""))

        init(server: TestHTTPServer) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch self.unwrapInboundIn(data) {
            case .head(let head):
                self.state.withLock { $0 = (head, "") }
            case .body(let buffer):
                self.state.withLock { $0.body += String(buffer: buffer) }
            case .end:
                let (head, body) = self.state.withLock { $0 }
                guard let head else { return }
                let index = self.server.requests.withLock { list in
                    list.append(Request(head: head, body: body))
                    return list.count - 1
                }
                let reply = self.server.reply(index)
                let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: reply.delay) { self.answer(loopContext.value, reply) }
            }
        }

        private func answer(_ context: ChannelHandlerContext, _ reply: Reply) {
            if reply.drop {
                context.close(promise: nil)
                return
            }
            var headers = HTTPHeaders()
            if reply.chunked {
                headers.add(name: "Transfer-Encoding", value: "chunked")
            } else {
                headers.add(name: "Content-Length", value: String(reply.body.utf8.count))
            }
            if reply.close { headers.add(name: "Connection", value: "close") }
            context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers))), promise: nil)
            if reply.chunked {  // two chunks
                let half = reply.body.utf8.count / 2
                for part in [reply.body.utf8.prefix(half), reply.body.utf8.dropFirst(half)] {
                    context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: Array(part))))), promise: nil)
                }
            } else if !reply.body.isEmpty {
                context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: reply.body)))), promise: nil)
            }
            let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
            if reply.close {
                let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
                done.whenComplete { _ in loopContext.value.close(promise: nil) }
            }
        }
    }
}
