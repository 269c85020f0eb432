import Foundation
import Metrics
import NIOCore
import SMSCore
import Synchronization

/// One application endpoint as the worker delivers to it: URL, signing secrets (values, read from the environment
/// variables the config file names), the types it takes, its metric handles.
public struct EventTarget: Sendable {
    public let name: String
    public let url: String
    /// The secrets' signers, their keys decoded and set up once.
    let signers: [StandardWebhooksSigner]
    public let types: Set<EventType>
    let delivered: Counter
    let retried: Counter
    let dead: Counter
    let duration: Timer
    let depth: Gauge
    let oldestAge: Gauge

    public init(name: String, url: String, secrets: [String], types: Set<EventType>) {
        self.name = name
        self.url = url
        self.signers = secrets.map(StandardWebhooksSigner.init(secret:))
        self.types = types
        let labels = [("endpoint", name)]
        self.delivered = Counter(label: "smshook_events_total", dimensions: labels + [("outcome", "delivered")])
        self.retried = Counter(label: "smshook_events_total", dimensions: labels + [("outcome", "retry")])
        self.dead = Counter(label: "smshook_events_total", dimensions: labels + [("outcome", "dead")])
        self.duration = Timer(label: "smshook_event_delivery_seconds", dimensions: labels)
        self.depth = Gauge(label: "smshook_events_queue_depth", dimensions: labels)
        self.oldestAge = Gauge(label: "smshook_events_oldest_age_seconds", dimensions: labels)
    }

    /// `v1,<sig>` for each secret, space-separated (Standard Webhooks: the receiver accepts any of them).
    func signature(id: String, timestamp: Int, body: [UInt8]) -> String {
        self.signers.map { $0.sign(id: id, timestamp: timestamp, body: body) }
            .joined(separator: " ")
    }
}

/// Delivers events to the application's endpoints (Standard Webhooks): signed POSTs, no redirects followed, a
/// timeout per attempt; 2xx is delivered, 410 disables the endpoint, anything else is retried on the schedule.
public struct EventDelivery: Sendable {
    public let targets: [EventTarget]
    /// Seconds to wait after failed attempt 1, 2, ...; exhausted: the dead list.
    public let schedule: [Double]
    /// Deliveries in flight per endpoint per worker.
    public let concurrency: Int
    public let timeout: Duration
    public let deadMax: Int
    /// Per endpoint (by name): a keep-alive connection per delivery in flight.
    let clients: [String: HTTP1Client]

    public enum Result: Sendable, Equatable {
        case delivered
        /// 410 Gone: the endpoint asked to stop.
        case gone
        case failed(String)
    }

    public init(targets: [EventTarget], schedule: [Double], concurrency: Int = 4, timeout: Duration = .seconds(15), deadMax: Int = 10_000) {
        self.targets = targets
        self.schedule = schedule
        self.concurrency = concurrency
        self.timeout = timeout
        self.deadMax = deadMax
        // a redirect is an answer (a failure), never followed: the signed body goes only where it was configured
        self.clients = Dictionary(
            targets.map { ($0.name, HTTP1Client(url: $0.url, connections: concurrency, bodyLimit: 64 << 10)) },
            uniquingKeysWith: { first, _ in first })
    }

    /// The targets of the config file's endpoints, their secrets read from `environment`. A named variable that is
    /// unset or not a `whsec_` secret is an error naming it (never its value).
    public static func targets(_ config: EventsConfig, environment: [String: String]) throws -> [EventTarget] {
        try config.endpoints.map { endpoint in
            let secrets = try endpoint.secrets.map { variable in
                guard let value = environment[variable], value.hasPrefix("whsec_"),
                    let key = Data(base64Encoded: String(value.dropFirst(6))), key.count >= 16
                else {
                    throw ConfigurationError(
                        variable: variable,
                        message: "events endpoint '\(endpoint.name)': set it to a whsec_ secret (whsec_ + base64 of 16 to 64 random bytes)")
                }
                return value
            }
            let types = Set(endpoint.types.map { $0.compactMap(EventType.init(rawValue:)) } ?? EventType.allCases)
            return EventTarget(name: endpoint.name, url: endpoint.url, secrets: secrets, types: types)
        }
    }

    public func targets(for type: EventType) -> [EventTarget] { self.targets.filter { $0.types.contains(type) } }

    /// Seconds before the next attempt after `attempt` failed ones; nil when the schedule is exhausted.
    public func delay(afterAttempt attempt: Int) -> Double? {
        attempt >= 1 && attempt <= self.schedule.count ? self.schedule[attempt - 1] : nil
    }

    /// One attempt: POST the body with `webhook-id`, `webhook-timestamp` (now) and `webhook-signature`.
    func deliver(_ event: QueuedEvent, to target: EventTarget) async -> Result {
        guard let client = self.clients[target.name] else { return .failed("no client for endpoint \(target.name)") }
        let timestamp = Int(Date().timeIntervalSince1970)
        let headers = [
            ("Content-Type", "application/json"), ("User-Agent", "smshook"), ("webhook-id", event.id),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", target.signature(id: event.id, timestamp: timestamp, body: event.body)),
        ]
        do {
            // the answer's body is read (up to 64 KiB kept, then dropped) so the connection is reused
            let status = try await StallTolerantTimeout.run(self.timeout) {
                try await client.post(headers: headers, body: event.body).status
            }
            switch status {
            case 200..<300: return .delivered
            case 410: return .gone
            default: return .failed("endpoint answered \(status)")
            }
        } catch {
            return .failed("network: \(error)")
        }
    }

    func shutdown() async {
        for client in self.clients.values { await client.shutdown() }
    }
}
