import RedisClient
import SMSCore
import SMSStore

/// Console sessions in Redis (so that any instance's admin listener knows them): the cookie is 32 random bytes, the
/// key is its SHA-256 (a leaked key list is no set of cookies), the value `{user, csrf, created}`, with a TTL.
struct ConsoleSessions: Sendable {
    let redis: RedisClient
    let keys: KeySpace
    let seconds: Int

    struct Session: Sendable, Hashable {
        let user: String
        /// The token every form of this session carries.
        let csrf: String
    }

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()  // the kernel's random source
        return (0..<4).map { _ in
            let text = String(generator.next(), radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }.joined()
    }

    /// A new session for `user`; its cookie value.
    func create(user: String, now: String) async throws -> (cookie: String, session: Session) {
        let cookie = Self.random()
        let session = Session(user: user, csrf: Self.random())
        let value = JSONValue.object([("user", .string(user)), ("csrf", .string(session.csrf)), ("created", .string(now))]).json
        try await self.redis.send(
            "SET", RedisArgument(self.keys.consoleSession(Signatures.sha256Hex(cookie.utf8))), RedisArgument(value), "EX",
            RedisArgument(self.seconds))
        return (cookie, session)
    }

    /// The session of a cookie; nil when there is none (expired, logged out, never).
    func find(_ cookie: String) async throws -> Session? {
        guard cookie.utf8.count == 64 else { return nil }
        let raw = try await self.redis.send("GET", RedisArgument(self.keys.consoleSession(Signatures.sha256Hex(cookie.utf8)))).bytes
        guard let raw, let json = try? JSONParser.parse(raw), let user = json["user"]?.stringValue, let csrf = json["csrf"]?.stringValue
        else { return nil }
        return Session(user: user, csrf: csrf)
    }

    func delete(_ cookie: String) async throws {
        try await self.redis.send("DEL", RedisArgument(self.keys.consoleSession(Signatures.sha256Hex(cookie.utf8))))
    }
}
