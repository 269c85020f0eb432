import Hummingbird
import Metrics
import Synchronization

/// Metric names of the webhook service (exported by `GET /metrics` in Prometheus text).
enum WebhookMetrics {
    static func message(outcome: String, intent: String) {
        self.counter("smshook_messages_total", [("outcome", outcome), ("intent", intent)]).increment()
    }

    /// Counters by label and dimensions, made once: making one through the metrics factory costs a registry
    /// lookup and an allocation, which showed in profiles at a few per request.
    private static let counters = Mutex<[[String]: Counter]>([:])

    static func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        var key = [label]
        for (name, value) in dimensions {
            key.append(name)
            key.append(value)
        }
        return self.counters.withLock { cache in
            if let counter = cache[key] { return counter }
            let counter = Counter(label: label, dimensions: dimensions)
            cache[key] = counter
            return counter
        }
    }

    static func redisError(_ component: String) {
        Counter(label: "smshook_redis_errors_total", dimensions: [("component", component)]).increment()
    }

    static let ingestDuration = Timer(label: "smshook_ingest_duration_seconds")
}

/// Counts every request by route and status (`smshook_webhook_requests_total`), after error mapping.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let response = try await next(request, context)
        let route = context.endpointPath ?? "unmatched"
        WebhookMetrics.counter("smshook_webhook_requests_total", [("route", route), ("status", String(response.status.code))])
            .increment()
        return response
    }
}
