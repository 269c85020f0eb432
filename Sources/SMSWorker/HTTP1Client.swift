import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// HTTP/1.1 POSTs to one URL (a provider's send endpoint): keep-alive connections, at most `connections` open, TLS
/// with certificate and hostname verification for https, each request written in one flush (head and body in one
/// write). No redirects, no proxies. A request's timeout is its caller's: cancelling the task closes the connection.
///
/// Why not AsyncHTTPClient here: per send it cost the worker about 110 µs of CPU (its head and body go out in two
/// writes, its async body streams hop threads), 70% of an http drain's CPU (`ops/bench/where-the-time-goes.md`).
public final class HTTP1Client: Sendable {
    /// A provider's answer: its status and headers, and up to `bodyLimit` bytes of its body. `complete` is false when
    /// the connection closed before the body's end: the status is still the provider's answer.
    public struct Answer: Sendable {
        public let status: Int
        public let headers: HTTPHeaders
        public let body: [UInt8]
        public let complete: Bool
        let keepAlive: Bool
    }

    let target: Result<HTTP1Target, HTTP1ClientError>
    let group: any EventLoopGroup
    let connections: Int
    let connectTimeout: Duration
    let bodyLimit: Int
    /// A connection unused this long is closed rather than reused (servers drop idle keep-alives, often at 60 s).
    let idleTimeout: Duration
    private let pool = Mutex(Pool())

    private struct Pool {
        var idle: [HTTP1Connection] = []
        var open = 0
        var waiters: [(id: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var cancelled: Set<Int> = []
        var nextWaiter = 0
        var shutDown = false
    }

    /// - Parameter tls: the TLS settings of an https URL (certificates verified against the system's roots by default).
    public init(
        url: String, connections: Int, connectTimeout: Duration = .seconds(5), bodyLimit: Int = 1 << 20,
        idleTimeout: Duration = .seconds(30), tls: TLSConfiguration = .makeClientConfiguration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.target = HTTP1Target.parse(url, tls: tls)
        self.group = group
        self.connections = max(1, connections)
        self.connectTimeout = connectTimeout
        self.bodyLimit = bodyLimit
        self.idleTimeout = idleTimeout
    }

    /// POSTs `body` with `headers` (`Host` and `Content-Length` are added). Throws when no answer came: refused,
    /// reset, closed before a status line, cancelled, shut down.
    public func post(headers: [(String, String)], body: [UInt8]) async throws -> Answer {
        let target = try self.target.get()
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target.uri)
        head.headers.reserveCapacity(headers.count + 2)
        head.headers.add(name: "Host", value: target.hostHeader)
        head.headers.add(contentsOf: headers)
        head.headers.add(name: "Content-Length", value: String(body.count))
        let connection = try await self.acquire(target)
        do {
            let answer = try await connection.send(head, body: body)
            self.release(connection, reuse: answer.complete && answer.keepAlive)
            return answer
        } catch {
            self.release(connection, reuse: false)
            throw error
        }
    }

    /// Closes every connection; requests after (or waiting for a connection) fail.
    public func shutdown() async {
        let (idle, waiters) = self.pool.withLock { pool in
            pool.shutDown = true
            defer { pool.idle = []; pool.waiters = [] }
            return (pool.idle, pool.waiters)
        }
        for connection in idle { try? await connection.channel.close() }
        for waiter in waiters { waiter.continuation.resume() }
    }

    private enum Step {
        case use(HTTP1Connection)
        case connect
        case wait
    }

    /// An idle connection, a new one while fewer than `connections` are open, or a turn in line for one.
    private func acquire(_ target: HTTP1Target) async throws -> HTTP1Connection {
        while true {
            try Task.checkCancellation()
            var stale: [HTTP1Connection] = []
            let step = try self.pool.withLock { pool throws(HTTP1ClientError) -> Step in
                if pool.shutDown { throw .shutDown }
                while let connection = pool.idle.popLast() {
                    if connection.isReusable(within: self.idleTimeout) { return .use(connection) }
                    pool.open -= 1
                    stale.append(connection)
                }
                guard pool.open < self.connections else { return .wait }
                pool.open += 1
                return .connect
            }
            for connection in stale { connection.channel.close(promise: nil) }
            switch step {
            case .use(let connection):
                return connection
            case .connect:
                do {
                    return try await HTTP1Connection.connect(
                        target, group: self.group, timeout: self.connectTimeout, bodyLimit: self.bodyLimit)
                } catch {
                    self.release(nil, reuse: false)
                    throw error
                }
            case .wait:
                await self.waitForTurn()
            }
        }
    }

    /// Returns until a connection is released, a slot frees, the pool shuts down or the task is cancelled.
    private func waitForTurn() async {
        let id = self.pool.withLock { pool in
            defer { pool.nextWaiter &+= 1 }
            return pool.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = self.pool.withLock { pool in
                    if pool.cancelled.remove(id) != nil || pool.shutDown || !pool.idle.isEmpty || pool.open < self.connections {
                        return true
                    }
                    pool.waiters.append((id, continuation))
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.pool.withLock { pool -> CheckedContinuation<Void, Never>? in
                if let i = pool.waiters.firstIndex(where: { $0.id == id }) { return pool.waiters.remove(at: i).continuation }
                pool.cancelled.insert(id)
                return nil
            }
            waiter?.resume()
        }
        self.pool.withLock { _ = $0.cancelled.remove(id) }
    }

    /// Back to the idle ones (`reuse`) or closed, its slot freed; the first in line looks again.
    private func release(_ connection: HTTP1Connection?, reuse: Bool) {
        let (keep, waiter) = self.pool.withLock { pool -> (Bool, CheckedContinuation<Void, Never>?) in
            let keep = reuse && !pool.shutDown && connection != nil
            if keep, let connection { pool.idle.append(connection) } else { pool.open -= 1 }
            return (keep, pool.waiters.isEmpty ? nil : pool.waiters.removeFirst().continuation)
        }
        if !keep { connection?.channel.close(promise: nil) }
        waiter?.resume()
    }
}

public struct HTTP1ClientError: Error, CustomStringConvertible, Sendable {
    public let description: String

    static let shutDown = HTTP1ClientError(description: "the HTTP client is shut down")
    static let closed = HTTP1ClientError(description: "the connection closed before an answer")
}

/// Where a client's requests go, parsed once.
struct HTTP1Target: Sendable {
    let host: String
    let port: Int
    /// The request target: path and query.
    let uri: String
    let hostHeader: String
    /// https: the TLS context and the name to verify (nil for an IP address: its certificate must name the address).
    let tls: NIOSSLContext?
    let serverName: String?

    static func parse(_ url: String, tls: TLSConfiguration) -> Result<HTTP1Target, HTTP1ClientError> {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return .failure(HTTP1ClientError(description: "not an http(s) URL with a host")) }
        let secure = scheme == "https"
        let port = components.port ?? (secure ? 443 : 80)
        guard (1...65535).contains(port) else { return .failure(HTTP1ClientError(description: "port \(port) out of range")) }
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        let uri = components.percentEncodedQuery.map { path + "?" + $0 } ?? path
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let literal = bare.contains(":") ? "[\(bare)]" : bare
        let hostHeader = port == (secure ? 443 : 80) ? literal : "\(literal):\(port)"
        var context: NIOSSLContext?
        if secure {
            do {
                context = try NIOSSLContext(configuration: tls)
            } catch {
                return .failure(HTTP1ClientError(description: "TLS settings: \(error)"))
            }
        }
        let isAddress = (try? SocketAddress(ipAddress: bare, port: port)) != nil
        return .success(HTTP1Target(
            host: bare, port: port, uri: uri, hostHeader: hostHeader, tls: context, serverName: isAddress ? nil : bare))
    }
}
