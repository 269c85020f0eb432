internal import CHiredis
import NIOCore

/// hiredis's RESP reader (`redisReaderFeed` / `redisReaderGetReply`): bytes in as they arrive, whole replies out.
/// Owned by one channel handler, used on its event loop only.
final class RedisReplyReader {
    private let reader: UnsafeMutablePointer<redisReader>

    init() {
        self.reader = redisReaderCreate()
    }

    deinit { redisReaderFree(self.reader) }

    func feed(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { try self.feed($0) }
    }

    func feed(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if redisReaderFeed(self.reader, base.assumingMemoryBound(to: CChar.self), bytes.count) != REDIS_OK { throw self.error() }
    }

    /// The next complete reply, or nil when more bytes are needed. A protocol error throws (the stream is unusable).
    func next() throws -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(self.reader, &raw) == REDIS_OK else { throw self.error() }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    private func error() -> RedisError {
        let text = withUnsafeBytes(of: self.reader.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return RedisError(.connectionLost, "unreadable reply from Redis: \(text.isEmpty ? "protocol error" : text)")
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
}

extension RedisReply {
    /// The complete replies in `bytes`, read by the reader a connection uses (hiredis), fed in `chunk`-byte pieces as
    /// a socket might deliver them; a protocol error throws. For tests and fuzzing.
    public static func parse(_ bytes: [UInt8], chunk: Int = .max) throws -> [RedisReply] {
        let reader = RedisReplyReader()
        var replies: [RedisReply] = []
        var start = 0
        repeat {
            let end = start + min(max(chunk, 1), bytes.count - start)
            try bytes[start..<end].withUnsafeBytes { try reader.feed($0) }
            while let reply = try reader.next() { replies.append(reply) }
            start = end
        } while start < bytes.count
        return replies
    }
}
