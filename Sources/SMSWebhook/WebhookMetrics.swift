import Hummingbird
import Metrics

/// Metric names of the webhook service (exported by `GET /metrics` in Prometheus text).
enum WebhookMetrics {
    static func message(outcome: String, intent: String) {
        Counter(label: "smshook_messages_total", dimensions: [("outcome", outcome), ("intent", intent)]).increment()
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
        Counter(label: "smshook_webhook_requests_total", dimensions: [("route", route), ("status", String(response.status.code))])
            .increment()
        return response
    }
}
