/// What the application is told about (Standard Webhooks event types).
public enum EventType: String, Sendable, Hashable, CaseIterable, Decodable {
    case messageReceived = "message.received"
    case messageSent = "message.sent"
    case messageFailed = "message.failed"
    case replySent = "reply.sent"
    case replyFailed = "reply.failed"
    case optOutChanged = "optout.changed"
}

/// The `events` section of the config file: the application's endpoints and the retry schedule.
public struct EventsConfig: Sendable, Hashable, Decodable {
    public var endpoints: [EventEndpoint]
    /// Seconds before each retry after a failed attempt; default: the Standard Webhooks schedule.
    public var retrySchedule: [Double]?

    /// Immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (Standard Webhooks senders' schedule).
    public static let standardSchedule: [Double] = [5, 300, 1800, 7200, 18000, 36000, 36000]

    public init(endpoints: [EventEndpoint], retrySchedule: [Double]? = nil) {
        self.endpoints = endpoints
        self.retrySchedule = retrySchedule
    }

    enum CodingKeys: String, CodingKey {
        case endpoints
        case retrySchedule = "retry_schedule"
    }

    public var schedule: [Double] { self.retrySchedule ?? Self.standardSchedule }

    /// Endpoints that take `type`.
    public func endpoints(for type: EventType) -> [EventEndpoint] { self.endpoints.filter { $0.accepts(type) } }

    public func validate() throws(ReplyConfigError) {
        var names: Set<String> = []
        for (i, endpoint) in self.endpoints.enumerated() {
            let at = "events.endpoints[\(i)]"
            guard EventEndpoint.isValidName(endpoint.name) else {
                throw ReplyConfigError(message: "\(at).name: 1 to 40 of a-z, 0-9, '-' and '_', got '\(endpoint.name)'")
            }
            guard names.insert(endpoint.name).inserted else {
                throw ReplyConfigError(message: "\(at).name: '\(endpoint.name)' is used twice")
            }
            let url = endpoint.url.lowercased()
            guard url.hasPrefix("https://") || url.hasPrefix("http://"), endpoint.url.count <= 2048,
                !endpoint.url.contains(where: { $0 == " " || $0.isNewline })
            else {
                throw ReplyConfigError(message: "\(at).url: an http(s):// URL is required")
            }
            guard !endpoint.secrets.isEmpty, endpoint.secrets.allSatisfy(EventEndpoint.isVariableName) else {
                throw ReplyConfigError(
                    message: "\(at).secrets: names of environment variables holding whsec_ secrets (never the secrets)")
            }
            for type in endpoint.types ?? [] where EventType(rawValue: type) == nil {
                throw ReplyConfigError(
                    message: "\(at).types: unknown type '\(type)'; one of \(EventType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        if let schedule = self.retrySchedule {
            guard !schedule.isEmpty, schedule.count <= 50, schedule.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 7 * 86400 }) else {
                throw ReplyConfigError(message: "events.retry_schedule: 1 to 50 delays in seconds, each 0 to 604800")
            }
        }
    }
}

/// One application endpoint: where its events go, the environment variables holding its signing secrets (several
/// during a rotation; each signs), and the types it takes (all when absent).
public struct EventEndpoint: Sendable, Hashable, Decodable {
    public var name: String
    public var url: String
    public var secrets: [String]
    public var types: [String]?

    public init(name: String, url: String, secrets: [String], types: [EventType]? = nil) {
        self.name = name
        self.url = url
        self.secrets = secrets
        self.types = types?.map(\.rawValue)
    }

    public func accepts(_ type: EventType) -> Bool { self.types?.contains(type.rawValue) ?? true }

    /// The types as the ingest script reads them: space-separated, with a space at each end.
    public var typeList: String {
        " " + (self.types ?? EventType.allCases.map(\.rawValue)).joined(separator: " ") + " "
    }

    static func isValidName(_ name: String) -> Bool {
        (1...40).contains(name.utf8.count)
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }
    }

    static func isVariableName(_ name: String) -> Bool {
        (1...128).contains(name.utf8.count)
            && name.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }
}

/// An event as queued for one endpoint: `<id> <attempt> <body>`, where body is the exact JSON delivered
/// (`{"type":...,"timestamp":...,"data":{...}}`) and id the `webhook-id` of every attempt.
public struct QueuedEvent: Sendable, Hashable {
    public var id: String
    public var attempt: Int
    public var body: [UInt8]

    public init(id: String, attempt: Int = 0, body: [UInt8]) {
        self.id = id
        self.attempt = attempt
        self.body = body
    }

    /// nil when the entry is not of this form.
    public init?(entry: [UInt8]) {
        guard let first = entry.firstIndex(of: 0x20), first > 0,
            let second = entry[(first + 1)...].firstIndex(of: 0x20),
            let attempt = Int(String(decoding: entry[(first + 1)..<second], as: UTF8.self)), (0...1000).contains(attempt)
        else { return nil }
        self.id = String(decoding: entry[..<first], as: UTF8.self)
        self.attempt = attempt
        self.body = Array(entry[(second + 1)...])
    }

    public var entry: [UInt8] { Array("\(self.id) \(self.attempt) ".utf8) + self.body }

    /// The type named in the body, for metrics and listings.
    public var type: String? { (try? JSONParser.parse(self.body))?["type"]?.stringValue }

    /// The body of an event: `{"type":..,"timestamp":..,"data":<data>}`; `data` is written by the caller.
    public static func body(type: EventType, timestamp: String, data: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter(capacity: 512)
        w.beginObject()
        w.field("type", type.rawValue)
        w.field("timestamp", timestamp)
        w.key("data")
        data(&w)
        w.endObject()
        return w.bytes
    }
}
