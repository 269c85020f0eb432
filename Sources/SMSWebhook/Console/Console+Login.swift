import Hummingbird
import Logging
import SMSCore
import SMSSystem

extension Console {
    /// The login form, with a CSRF token of its own (double-submit: a cookie and the form must carry the same value).
    func loginPage(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let token = ConsoleSessions.random()
        var context = self.base("Log in", nil, error: error)
        context["login_csrf"] = token
        return ConsoleView.page("login", context, status: status, headers: self.setCookie(Self.loginCookieName, token, maxAge: 3600, request: request))
    }

    /// A token, or a user and password: a session and its cookie. A failure is audited (the name tried, never the
    /// secret) and answered after a second, to slow guessing.
    func login(_ request: Request, logger: Logger) async -> Response {
        guard let form = await Self.form(request) else { return self.loginPage(request, error: "The form could not be read.", status: .badRequest) }
        let expected = Self.cookie(Self.loginCookieName, in: request) ?? ""
        guard !expected.isEmpty, Signatures.constantTimeEquals(form["csrf"]?.first ?? "", expected) else {
            return self.loginPage(request, error: "The login form was stale; try again.", status: .forbidden)
        }
        var user: String?
        if let token = form["token"]?.first, !token.isEmpty {
            user = self.configuration.tokenName(token).map { "token:" + $0 }
        } else if let name = form["username"]?.first, let password = form["password"]?.first, !name.isEmpty {
            // a name without a user still costs a hash, so that timing does not tell which names exist
            let hash = self.configuration.users[name] ?? Self.decoy
            let verified = (try? await Blocking.run { hash?.verify(password) ?? false }) ?? false  // ~0.1 s of scrypt
            user = verified && self.configuration.users[name] != nil ? name : nil
        }
        guard let user else {
            let tried = form["username"]?.first.map { String($0.prefix(64)) } ?? "(token)"
            logger.warning("console: login refused", metadata: ["console.user": "\(tried)"])
            await self.audit("login_failed", by: tried, [])
            try? await Task.sleep(for: .seconds(1))
            return self.loginPage(request, error: "Wrong token, user name or password.", status: .unauthorized)
        }
        do {
            let (cookie, _) = try await self.sessions.create(user: user, now: Timestamp.now())
            await self.audit("login", by: user, [])
            logger.info("console: logged in", metadata: ["console.user": "\(user)"])
            var headers = self.setCookie(Self.cookieName, cookie, maxAge: self.configuration.sessionSeconds, request: request)
            headers.append(contentsOf: self.setCookie(Self.loginCookieName, "", maxAge: 0, request: request))
            return ConsoleView.redirect("/console", headers: headers)
        } catch {
            return self.loginPage(request, error: "Redis is unavailable; try again.", status: .serviceUnavailable)
        }
    }

    func logout(_ request: Request, _ session: ConsoleSessions.Session, _ form: [String: [String]]) async -> Response {
        if let cookie = Self.cookie(Self.cookieName, in: request) { try? await self.sessions.delete(cookie) }
        await self.audit("logout", by: session.user, [])
        return ConsoleView.redirect("/console/login", headers: self.setCookie(Self.cookieName, "", maxAge: 0, request: request))
    }

    /// Verified against when the name is unknown (a fixed salt: it never matches a real password's hash).
    static let decoy = PasswordHash("scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
}
