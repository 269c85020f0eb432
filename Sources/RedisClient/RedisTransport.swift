#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import NIOSSL

/// Opens Redis channels: TCP or a Unix socket, TLS when configured, then the handshake (AUTH, SELECT, and a PING
/// over TLS so a certificate problem shows at connect), all within the connect timeout. With sentinels it asks them
/// for the primary and checks it with ROLE on every (re)connect. One per client; its TLS contexts are built once.
final class RedisTransport: Sendable {
    let configuration: RedisConfiguration
    let group: any EventLoopGroup
    private let tls: Result<NIOSSLContext, RedisError>?
    private let sentinelTLS: Result<NIOSSLContext, RedisError>?

    init(configuration: RedisConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.group = group
        self.tls = configuration.tls.map { Self.context($0, for: "REDIS_TLS") }
        self.sentinelTLS = configuration.sentinelTLS.map { Self.context($0, for: "REDIS_SENTINEL_TLS") }
    }

    private static func context(_ tls: RedisConfiguration.TLS, for what: String) -> Result<NIOSSLContext, RedisError> {
        Result {
            var c = TLSConfiguration.makeClientConfiguration()
            c.certificateVerification = .fullVerification
            if let ca = tls.caFile {
                do {
                    c.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
                } catch {
                    throw RedisError(.connectionFailed, "\(what): cannot read the CA certificates in \(ca): \(error)")
                }
            }
            if let certificate = tls.certificateFile, let key = tls.keyFile {
                do {
                    c.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                    c.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
                } catch {
                    throw RedisError(.connectionFailed, "\(what): cannot read the client certificate \(certificate) or its key: \(error)")
                }
            }
            return try NIOSSLContext(configuration: c)
        }.mapError { $0 as? RedisError ?? RedisError(.connectionFailed, "\(what): \($0)") }
    }

    /// A ready channel to the configured server, or to the primary the sentinels name.
    func connect() async throws -> (any Channel, RedisChannelHandler) {
        guard !self.configuration.sentinels.isEmpty, let name = self.configuration.masterName else {
            return try await self.openData(self.configuration.endpoint)
        }
        var problems: [String] = []
        for sentinel in self.configuration.sentinels {
            do {
                var auth: [RedisCommand] = []
                if let password = self.configuration.sentinelPassword { auth.append(RedisCommand("AUTH", RedisArgument(password))) }
                let (channel, handler) = try await self.open(
                    sentinel, tls: self.sentinelTLS, serverName: self.configuration.sentinelTLS?.serverName, handshake: auth)
                let reply = try await self.ask(RedisCommand("SENTINEL", "get-master-addr-by-name", RedisArgument(name)), on: channel, handler)
                channel.close(promise: nil)
                guard let address = reply.array, address.count == 2, let host = address[0].string,
                    let port = address[1].int, (1...65535).contains(port)
                else {
                    problems.append("\(sentinel.text): does not know \(name)")
                    continue
                }
                let (data, dataHandler) = try await self.openData(.tcp(host: host, port: Int(port)))
                guard try await self.ask(RedisCommand("ROLE"), on: data, dataHandler).array?.first?.string == "master" else {
                    data.close(promise: nil)
                    problems.append("\(host):\(port) named by \(sentinel.text) is not a primary (failover under way?)")
                    continue
                }
                return (data, dataHandler)
            } catch {
                problems.append("\(sentinel.text): \((error as? RedisError)?.message ?? "\(error)")")
            }
        }
        throw RedisError(.connectionFailed, "no primary for \(name) through the sentinels: " + problems.joined(separator: "; "))
    }

    /// A data connection (the server, or a primary a sentinel named): TLS as configured, then AUTH and SELECT.
    private func openData(_ endpoint: RedisConfiguration.Endpoint) async throws -> (any Channel, RedisChannelHandler) {
        let c = self.configuration
        var handshake: [RedisCommand] = []
        if let password = c.password {
            if let user = c.username {
                handshake.append(RedisCommand("AUTH", RedisArgument(user), RedisArgument(password)))
            } else {
                handshake.append(RedisCommand("AUTH", RedisArgument(password)))
            }
        }
        if c.database != 0 { handshake.append(RedisCommand("SELECT", RedisArgument(c.database))) }
        return try await self.open(endpoint, tls: self.tls, serverName: c.tls?.serverName, handshake: handshake)
    }

    /// One command's reply on a channel nobody else uses yet; the channel is closed if it fails.
    private func ask(_ command: RedisCommand, on channel: any Channel, _ handler: RedisChannelHandler) async throws -> RedisReply {
        do {
            return try await Self.roundTrip([command], on: channel, handler, timeout: self.configuration.connectTimeout)[0]
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }

    /// Connects, adds TLS and the Redis handler, runs `handshake` and fails with `.connectionFailed` / `.authenticationFailed` naming the server, never a password.
    private func open(
        _ endpoint: RedisConfiguration.Endpoint, tls: Result<NIOSSLContext, RedisError>?, serverName: String?,
        handshake: [RedisCommand]
    ) async throws -> (any Channel, RedisChannelHandler) {
        let ssl = try tls?.get()
        let handler = RedisChannelHandler()
        let name = serverName
        let bootstrap = ClientBootstrap(group: self.group)
            .connectTimeout(TimeAmount(self.configuration.connectTimeout))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let ssl {
                        let host: String? = if case .tcp(let h, _) = endpoint { h } else { nil }
                        // SNI and the name verified: REDIS_TLS_SERVER_NAME, else the host unless it is an IP address
                        // (then the certificate must carry that IP)
                        let sni = name ?? host.flatMap { Self.isIPAddress($0) ? nil : $0 }
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: ssl, serverHostname: sni))
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel: any Channel
        do {
            switch endpoint {
            case .tcp(let host, let port):
                // an IP address needs no resolver (and none of its happy-eyeballs delays)
                if let address = try? SocketAddress(ipAddress: host, port: port) {
                    channel = try await bootstrap.connect(to: address).get()
                } else {
                    channel = try await bootstrap.connect(host: host, port: port).get()
                }
            case .unix(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
        } catch {
            throw RedisError(.connectionFailed, "connect to \(endpoint.text): \(Self.describe(error))")
        }
        // Over TLS a PING makes the handshake (and a certificate refused either way) happen now, not on first use.
        var first = handshake
        if ssl != nil && first.isEmpty { first.append(RedisCommand("PING")) }
        guard !first.isEmpty else { return (channel, handler) }
        do {
            let replies = try await Self.roundTrip(first, on: channel, handler, timeout: self.configuration.connectTimeout)
            for (command, reply) in zip(first, replies) {
                if case .error(let message) = reply {
                    throw RedisError(.authenticationFailed, "\(command.name) refused by \(endpoint.text): \(message)")
                }
            }
        } catch let error as RedisError where error.code == .authenticationFailed {
            channel.close(promise: nil)
            throw error
        } catch {
            channel.close(promise: nil)
            let what = ssl != nil ? "TLS handshake or AUTH with" : "handshake with"
            throw RedisError(.connectionFailed, "\(what) \(endpoint.text) failed: \(Self.describe(error))")
        }
        return (channel, handler)
    }

    /// Sends `commands` on a channel not yet shared and waits for their replies.
    static func roundTrip(_ commands: [RedisCommand], on channel: any Channel, _ handler: RedisChannelHandler, timeout: Duration)
        async throws -> [RedisReply]
    {
        let request = RedisRequest(commands: commands, timeout: timeout)
        return try await request.run { request in
            channel.eventLoop.execute { handler.write(CollectionOfOne(request)) }
        }
    }

    /// A readable cause: the refusal of a connect rather than NIO's wrapper, what a failed certificate check means.
    static func describe(_ error: any Error) -> String {
        if let redis = error as? RedisError { return redis.message }
        if let connect = error as? NIOConnectionError, let first = connect.connectionErrors.first {
            return Self.describe(first.error)
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "the server's TLS certificate was not accepted (it does not chain to REDIS_TLS_CA_FILE or the system's roots, or has expired)"
        }
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "the server's TLS certificate does not name this host (connecting by IP? set REDIS_TLS_SERVER_NAME to a name it carries)"
        }
        if text.contains("CERTIFICATE_REQUIRED") || text.contains("HANDSHAKE_FAILURE") || text.contains("TLSV1_ALERT") {
            return "the server refused the TLS handshake (does it require a client certificate? REDIS_TLS_CERT_FILE / REDIS_TLS_KEY_FILE): \(text)"
        }
        return text
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

extension RedisConfiguration.Endpoint {
    /// host:port or the socket path, for messages.
    var text: String {
        switch self {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): path
        }
    }
}
