import Foundation
import Hummingbird
import Logging
import RedisClient
import SMSCore
import SMSStore
import SMSSystem

/// The operator console, `/console` on the admin listener only (never the public port): server-rendered pages behind
/// a login (tokens or users with scrypt password hashes), a session cookie (HttpOnly, SameSite=Strict, Secure behind
/// TLS), a CSRF token on every form, an audit record for every action. Every Redis read is bounded; no page shows
/// more than 100 records.
struct Console: Sendable {
    let configuration: ConsoleConfiguration
    let redis: RedisClient
    let keys: KeySpace
    let rules: ReplyRules
    /// Where the rules were read from, and the SHA-256 of the file (the config page compares instances).
    let rulesPath: String?
    let auditMaxLength: Int
    let sessions: ConsoleSessions

    static let cookieName = "smshook_console"
    static let loginCookieName = "smshook_console_login"
    static let pageSize = 50
    static let maxRows = 100

    init(configuration: ConsoleConfiguration, redis: RedisClient, keys: KeySpace, rules: ReplyRules, rulesPath: String?, auditMaxLength: Int) {
        self.configuration = configuration
        self.redis = redis
        self.keys = keys
        self.rules = rules
        self.rulesPath = rulesPath
        self.auditMaxLength = auditMaxLength
        self.sessions = ConsoleSessions(redis: redis, keys: keys, seconds: configuration.sessionSeconds)
    }

    func add(to router: Router<some RequestContext>) {
        router.get("/console/assets/console.css") { _, _ in ConsoleView.asset(ConsoleTemplates.css, type: "text/css; charset=utf-8") }
        router.get("/console/assets/console.js") { _, _ in ConsoleView.asset(ConsoleTemplates.js, type: "text/javascript; charset=utf-8") }
        router.get("/console/login") { request, _ in self.loginPage(request) }
        router.post("/console/login") { request, context in await self.login(request, logger: context.logger) }
        router.post("/console/logout") { request, context in
            await self.withSession(request, context.logger, form: true) { session, form in await self.logout(request, session, form) }
        }
        router.get("/console") { request, context in
            await self.withSession(request, context.logger) { session, _ in await self.dashboard(session) }
        }
        router.get("/console/messages") { request, context in
            await self.withSession(request, context.logger) { session, _ in await self.messages(request, session) }
        }
        router.get("/console/numbers/{number}") { request, context in
            let number = context.parameters.get("number") ?? ""
            return await self.withSession(request, context.logger) { session, _ in await self.timeline(number, session) }
        }
        router.get("/console/records/{shard}/{id}") { request, context in
            let shard = context.parameters.get("shard").flatMap(Int.init) ?? -1
            let id = context.parameters.get("id") ?? ""
            return await self.withSession(request, context.logger) { session, _ in await self.record(shard: shard, id: id, session) }
        }
        router.get("/console/dead") { request, context in
            await self.withSession(request, context.logger) { session, _ in await self.dead(request, session) }
        }
        router.post("/console/dead") { request, context in
            await self.withSession(request, context.logger, form: true) { session, form in await self.deadAction(form, session) }
        }
        router.get("/console/optouts") { request, context in
            await self.withSession(request, context.logger) { session, _ in await self.optOuts(request, session) }
        }
        router.post("/console/optouts") { request, context in
            await self.withSession(request, context.logger, form: true) { session, form in await self.optOutAction(form, session) }
        }
        router.get("/console/config") { request, context in
            await self.withSession(request, context.logger) { session, _ in await self.config(request, session) }
        }
    }

    // MARK: sessions

    /// Runs `handle` for a logged-in operator; a POST must carry the session's CSRF token. Without a session: to the
    /// login page (GET) or 403 (POST).
    func withSession(
        _ request: Request, _ logger: Logger, form: Bool = false,
        _ handle: (ConsoleSessions.Session, [String: [String]]) async -> Response
    ) async -> Response {
        let session: ConsoleSessions.Session?
        do {
            session = try await Self.cookie(Self.cookieName, in: request).asyncMap { try await self.sessions.find($0) } ?? nil
        } catch {
            logger.error("console: session store unavailable", metadata: ["redis.error": "\(error)"])
            return ConsoleView.page("login", self.base("Log in", nil, error: "Redis is unavailable; try again."), status: .serviceUnavailable)
        }
        guard let session else {
            if form { return ConsoleView.page("login", self.base("Log in", nil, error: "Your session has ended; log in again."), status: .forbidden) }
            return ConsoleView.redirect("/console/login")
        }
        var fields: [String: [String]] = [:]
        if form {
            guard let parsed = await Self.form(request) else {
                return ConsoleView.page("login", self.base("Log in", nil, error: "The form could not be read."), status: .badRequest)
            }
            fields = parsed
            guard Signatures.constantTimeEquals(fields["csrf"]?.first ?? "", session.csrf) else {
                logger.warning("console: form without a valid CSRF token refused", metadata: ["console.user": "\(session.user)"])
                return ConsoleView.page("login", self.base("Refused", session, error: "This form is stale or was not sent from the console; reload the page."), status: .forbidden)
            }
        }
        return await handle(session, fields)
    }

    /// The context every page starts from.
    func base(_ title: String, _ session: ConsoleSessions.Session?, flash: String? = nil, error: String? = nil, nav: String? = nil) -> [String: Any] {
        var context: [String: Any] = ["title": title]
        if let session {
            context["user"] = session.user
            context["csrf"] = session.csrf
        }
        if let flash { context["flash"] = flash }
        if let error { context["error"] = error }
        if let nav { context["nav_" + nav] = true }
        return context
    }

    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2 && pair[0] == name { return pair[1] }
            }
        }
        return nil
    }

    /// A form body (≤ 64 KiB, ≤ 256 fields), by name; nil when unreadable.
    static func form(_ request: Request) async -> [String: [String]]? {
        guard let buffer = try? await request.body.collect(upTo: 64 << 10),
            let pairs = FormEncoding.decode(String(buffer: buffer))
        else { return nil }
        var fields: [String: [String]] = [:]
        for (name, value) in pairs { fields[name, default: []].append(value) }
        return fields
    }

    /// `Set-Cookie` for `value`: HttpOnly, SameSite=Strict, Path=/console, Secure behind TLS.
    func setCookie(_ name: String, _ value: String, maxAge: Int, request: Request) -> HTTPFields {
        let secure = self.configuration.secureCookie ?? (request.headers[.init("X-Forwarded-Proto")!]?.lowercased() == "https")
        return [.setCookie: "\(name)=\(value); Path=/console; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")]
    }

    /// An audit record of an operator's action (who, what, when), on the shard of `number` (or the first).
    func audit(_ action: String, by user: String, number: String? = nil, _ detail: [(String, JSONValue)]) async {
        let shard = number.map { self.keys.shard(subscriber: $0, guid: $0) } ?? self.keys.shards[0]
        let record = JSONValue.object([("action", .string(action)), ("by", .string(user)), ("via", .string("console"))] + detail
            + [("at", .string(Timestamp.now()))]).json
        _ = try? await self.redis.send(
            "XADD", RedisArgument(shard.audit), "MAXLEN", "~", RedisArgument(self.keys.perShard(self.auditMaxLength)), "*",
            "event", "console", "decision", RedisArgument(action), "data", RedisArgument(record))
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
