import SMSCore

/// Who may open the operator console (`/console` on the admin listener only) and how long a session lasts.
public struct ConsoleConfiguration: Sendable {
    /// `SMSHOOK_CONSOLE_TOKENS`: comma-separated `name=token` (or bare tokens, named `token-1`, ...); ≥ 16 characters.
    public var tokens: [(name: String, token: String)] = []
    /// `SMSHOOK_CONSOLE_USERS`: comma-separated `name:scrypt$…` (from `smshook console hash-password`); never plaintext.
    public var users: [String: PasswordHash] = [:]
    /// `SMSHOOK_CONSOLE_SESSION_TTL`: seconds a session lasts (8 hours).
    public var sessionSeconds = 8 * 3600
    /// `SMSHOOK_CONSOLE_SECURE_COOKIE`: `1` marks the cookie Secure (behind TLS); default: when the request came over
    /// https (`X-Forwarded-Proto: https` from the proxy in front).
    public var secureCookie: Bool?

    public init() {}

    public var enabled: Bool { !self.tokens.isEmpty || !self.users.isEmpty }

    public init(environment env: [String: String]) throws {
        let reader = EnvironmentReader(env)
        for (i, item) in (env["SMSHOOK_CONSOLE_TOKENS"] ?? "").split(separator: ",").enumerated() {
            let text = String(item).trimmingWhitespace()
            guard !text.isEmpty else { continue }
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            let (name, token) = parts.count == 2 ? (parts[0], parts[1]) : ("token-\(i + 1)", text)
            guard token.utf8.count >= 16 else {
                throw ConfigurationError(variable: "SMSHOOK_CONSOLE_TOKENS", message: "token '\(name)' needs at least 16 characters")
            }
            self.tokens.append((name, token))
        }
        for item in (env["SMSHOOK_CONSOLE_USERS"] ?? "").split(separator: ",") {
            let text = String(item).trimmingWhitespace()
            guard !text.isEmpty else { continue }
            let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, let hash = PasswordHash(parts[1]) else {
                throw ConfigurationError(
                    variable: "SMSHOOK_CONSOLE_USERS",
                    message: "expected name:scrypt$N$r$p$salt$hash (make one with `smshook console hash-password`); plaintext passwords are refused")
            }
            self.users[parts[0]] = hash
        }
        self.sessionSeconds = try reader.int("SMSHOOK_CONSOLE_SESSION_TTL", default: self.sessionSeconds, range: 60...(7 * 86400))
        switch env["SMSHOOK_CONSOLE_SECURE_COOKIE"] {
        case "1"?: self.secureCookie = true
        case "0"?: self.secureCookie = false
        default: self.secureCookie = nil
        }
    }

    /// The name of the token, when `token` is one of them (every token compared, each in constant time).
    func tokenName(_ token: String) -> String? {
        var found: String?
        for candidate in self.tokens where Signatures.constantTimeEquals(candidate.token, token) { found = found ?? candidate.name }
        return found
    }
}
