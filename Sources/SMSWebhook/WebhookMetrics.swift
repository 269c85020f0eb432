import Hummingbird
import NIOCore
import Metrics
import SMSCore
import Synchronization

/// Metric names of the webhook service (exported by `GET /metrics` in Prometheus text).
enum WebhookMetrics {
    /// `smshook_messages_total{outcome,intent}`; intent `none` for a rejected item.
    static func message(outcome: IngestSummary.Outcome, intent: Intent?) {
        self.messageCounters[MessageKey(outcome: outcome, intent: intent)]?.increment()
    }

    private struct MessageKey: Hashable {
        let outcome: IngestSummary.Outcome
        let intent: Intent?
    }

    /// Every (outcome, intent) counter, made once: a handle made per message costs a registry lookup.
    private static let messageCounters: [MessageKey: Counter] = {
        var counters: [MessageKey: Counter] = [:]
        for outcome in IngestSummary.Outcome.allCases {
            for intent in Intent.allCases.map(Optional.some) + [nil] {
                counters[MessageKey(outcome: outcome, intent: intent)] = Counter(
                    label: "smshook_messages_total",
                    dimensions: [("outcome", outcome.rawValue), ("intent", intent?.rawValue ?? "none")])
            }
        }
        return counters
    }()

    private struct RequestKey: Hashable {
        let route: String
        let status: Int
    }

    private static let requestCounters = Mutex<[RequestKey: Counter]>([:])

    /// `smshook_webhook_requests_total{route,status}`, each handle made on first use.
    static func request(route: String, status: Int) {
        let key = RequestKey(route: route, status: status)
        let counter = self.requestCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(label: "smshook_webhook_requests_total", dimensions: [("route", route), ("status", String(status))])
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    static func redisError(_ component: String) {
        Counter(label: "smshook_redis_errors_total", dimensions: [("component", component)]).increment()
    }

    static let ingestDuration = Timer(label: "smshook_ingest_duration_seconds")
}

/// `GET /metrics` answers: Prometheus text exposition (serve, and the worker's metrics port).
public enum PrometheusResponse {
    public static func make(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Counts every request by route and status (`smshook_webhook_requests_total`), after error mapping.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let response = try await next(request, context)
        let route = context.endpointPath ?? "unmatched"
        WebhookMetrics.request(route: route, status: response.status.code)
        return response
    }
}
