internal import CHiredis
import Glibc

/// A blocking hiredis connection. Owned by one I/O thread; never shared.
final class HiredisContext {
    private let context: UnsafeMutablePointer<redisContext>
    private var currentTimeout: Duration

    /// Connects and authenticates. Throws `.connectionFailed` or `.authenticationFailed`.
    init(configuration: RedisConfiguration) throws {
        let tv = Self.timeval(configuration.connectTimeout)
        let ctx: UnsafeMutablePointer<redisContext>?
        switch configuration.endpoint {
        case .tcp(let host, let port): ctx = redisConnectWithTimeout(host, Int32(port), tv)
        case .unix(let path): ctx = redisConnectUnixWithTimeout(path, tv)
        }
        guard let ctx else { throw RedisError(.connectionFailed, "cannot allocate a Redis context") }
        if ctx.pointee.err != 0 {
            let message = Self.errorText(ctx)
            redisFree(ctx)
            throw RedisError(.connectionFailed, "connect to \(configuration.redactedURL): \(message)")
        }
        self.context = ctx
        self.currentTimeout = configuration.connectTimeout
        if case .tcp = configuration.endpoint { _ = redisEnableKeepAlive(ctx) }
        try self.handshake(configuration)
        self.setTimeout(configuration.commandTimeout)
    }

    deinit { redisFree(self.context) }

    private func handshake(_ configuration: RedisConfiguration) throws {
        var commands: [RedisCommand] = []
        if let password = configuration.password {
            if let user = configuration.username {
                commands.append(RedisCommand("AUTH", RedisArgument(user), RedisArgument(password)))
            } else {
                commands.append(RedisCommand("AUTH", RedisArgument(password)))
            }
        }
        if configuration.database != 0 {
            commands.append(RedisCommand("SELECT", RedisArgument(configuration.database)))
        }
        guard !commands.isEmpty else { return }
        for command in commands { self.append(command) }
        for command in commands {
            let reply: RedisReply
            do {
                reply = try self.readReply()
            } catch let error as RedisError {
                throw RedisError(.connectionFailed, "during \(command.name): \(error.message)")
            }
            if case .error(let message) = reply {
                throw RedisError(.authenticationFailed, "\(command.name) refused by \(configuration.redactedURL): \(message)")
            }
        }
    }

    /// Sets the socket read/write timeout (hiredis 0.14 uses it for every reply, blocking commands included).
    func setTimeout(_ timeout: Duration) {
        guard timeout != self.currentTimeout else { return }
        _ = redisSetTimeout(self.context, Self.timeval(timeout))
        self.currentTimeout = timeout
    }

    /// True when the idle socket is readable: the server closed it (restart, CLIENT KILL, idle timeout).
    var isStale: Bool { chiredis_idle_socket_is_stale(self.context.pointee.fd) != 0 }

    /// Queues a command in hiredis' output buffer; it is written by the next `readReply`.
    func append(_ command: RedisCommand) {
        command.encoded.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                _ = redisAppendFormattedCommand(self.context, chars.baseAddress, chars.count)
            }
        }
    }

    /// Flushes the output buffer if needed and reads the next reply. I/O failures throw; the context is then unusable.
    func readReply() throws -> RedisReply {
        var raw: UnsafeMutableRawPointer?
        if redisGetReply(self.context, &raw) != REDIS_OK {
            let savedErrno = chiredis_errno()
            let message = Self.errorText(self.context)
            if savedErrno == EAGAIN || savedErrno == EWOULDBLOCK {
                throw RedisError(.timeout, "no reply within \(self.currentTimeout)")
            }
            throw RedisError(.connectionLost, message)
        }
        guard let raw else { throw RedisError(.connectionLost, "no reply") }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        switch Int32(r.type) {
        case REDIS_REPLY_STATUS: return .status(Self.text(r))
        case REDIS_REPLY_ERROR: return .error(Self.text(r))
        case REDIS_REPLY_INTEGER: return .integer(Int64(r.integer))
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_STRING:
            guard let str = r.str, r.len > 0 else { return .bulk([]) }
            return .bulk(Array(UnsafeRawBufferPointer(start: str, count: Int(r.len))))
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(Int(r.elements))
            for i in 0..<Int(r.elements) {
                if let element = r.element[i] { items.append(Self.convert(element)) } else { items.append(.null) }
            }
            return .array(items)
        default:
            return .error("unknown reply type \(r.type)")
        }
    }

    private static func text(_ r: redisReply) -> String {
        guard let str = r.str else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: str, count: Int(r.len)), as: UTF8.self)
    }

    private static func errorText(_ ctx: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: ctx.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "I/O error" : String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func timeval(_ d: Duration) -> Glibc.timeval {
        let (seconds, attoseconds) = d.components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
