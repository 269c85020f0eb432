/// An error from the Redis client: a stable `code`, a human message and, for server errors, the server's text.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; switch with a default.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { self.name }

        /// Could not connect (refused, unreachable, connect timeout) or waiting out the reconnect backoff.
        public static let connectionFailed = Code(name: "connectionFailed")
        /// The connection broke while the command was in flight; it may or may not have run.
        public static let connectionLost = Code(name: "connectionLost")
        /// No reply within the command timeout; the connection is reset.
        public static let timeout = Code(name: "timeout")
        /// AUTH or SELECT refused by the server.
        public static let authenticationFailed = Code(name: "authenticationFailed")
        /// The server answered with an error reply (`-ERR ...`).
        public static let server = Code(name: "server")
        /// A reply of a shape the caller did not expect.
        public static let unexpectedReply = Code(name: "unexpectedReply")
        /// The URL could not be parsed.
        public static let invalidURL = Code(name: "invalidURL")
        /// The client was closed.
        public static let closed = Code(name: "closed")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "RedisError.\(self.code): \(self.message)" }

    /// The first word of a server error, e.g. `NOSCRIPT`, `WRONGTYPE`, `NOAUTH`.
    public var serverPrefix: String? {
        guard self.code == .server else { return nil }
        return self.message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }

    /// True when the failure says Redis is unavailable (as opposed to a bad command).
    public var isUnavailable: Bool {
        [.connectionFailed, .connectionLost, .timeout, .closed, .authenticationFailed].contains(self.code)
            || ["LOADING", "MASTERDOWN", "READONLY", "BUSY", "OOM", "NOAUTH", "CLUSTERDOWN", "TRYAGAIN", "MOVED", "ASK"].contains(self.serverPrefix ?? "")
    }
}
