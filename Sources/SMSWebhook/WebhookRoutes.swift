import Hummingbird
import Logging
import NIOCore
import RedisClient
import SMSCore
import SMSStore
import SMSSystem

/// The HTTP surface of `smshook serve`.
public struct WebhookRoutes: Sendable {
    /// Deadlines of request-body reads: one watchdog for all of them.
    static let bodyReads = Deadlines()
    let configuration: ServeConfiguration
    var ingest: IngestService
    let redis: RedisClient
    /// Where calls go while Redis is away; nil: they get 503.
    let spool: Spool?
    /// Messages in per minute, added to Redis by `StatsFlusher` (the console's dashboard).
    let stats = MinuteStats()

    public init(configuration: ServeConfiguration, redis: RedisClient, rules: ReplyRules? = nil, spool: Spool? = nil) {
        self.configuration = configuration
        self.redis = redis
        self.spool = spool
        var script = configuration.script
        // with the API on, each message reads its number's conversation and joins its history
        script.conversations = configuration.apiEnabled
        script.historyMaxLength = configuration.send.historyMaxLength
        script.historyTTLSeconds = configuration.send.recordTTLSeconds
        self.ingest = IngestService(
            redis: redis, keys: KeySpace(prefix: configuration.keyPrefix, shards: configuration.shards), settings: script,
            rules: rules ?? ReplyRules(configuration.replies, sha256: configuration.repliesSHA256),
            instance: configuration.instanceID)
        self.ingest.stats = self.stats
        self.ingest.store.minReplicasAck = configuration.minReplicasAck
        self.ingest.store.replicaAckTimeout = configuration.replicaAckTimeout
        self.ingest.store.callsInFlight = configuration.ingestCallsInFlight
    }

    /// The public port: the webhook routes and `/healthz`, nothing else.
    public func add(to router: Router<some RequestContext>) {
        router.add(middleware: RequestMetricsMiddleware())
        router.add(middleware: JSONErrorMiddleware())
        self.addHealth(to: router)
        router.post("/api/webhook/sms-received") { request, context in
            await self.legacyWebhook(request, logger: context.logger)
        }
        self.addProviderRoutes(to: router)
        self.addAPI(to: router)
        if self.configuration.benchRoutes {
            // the framework's cost of a POST with a body, read exactly as the webhook reads it, answered with a
            // response of the ingest's size: the ceiling the ingest path is measured against
            router.post("/bench/discard") { request, _ -> Response in
                do throws(PayloadError) {
                    _ = try await self.readBody(request, form: false)
                    return JSONResponse.ok(Self.discardAnswer)
                } catch {
                    return JSONResponse.error(error)
                }
            }
            // the same plus one Redis round trip (PING): what the Redis client costs a request, apart from the script
            router.post("/bench/ping") { request, _ -> Response in
                do throws(PayloadError) {
                    _ = try await self.readBody(request, form: false)
                    do {
                        _ = try await self.redis.send("PING")
                    } catch {
                        throw PayloadError(.unavailable, "redis: \(error)")
                    }
                    return JSONResponse.ok(Self.discardAnswer)
                } catch {
                    return JSONResponse.error(error)
                }
            }
        }
    }

    static let discardAnswer = #"{"status":"success","message":"Processed 1 message, skipped 0 duplicates","processed":1,"skipped":0,"rejected":0,"results":[{"guid":"r1-1-1","outcome":"accepted","intent":"affirmative","reply":"queued"}]}"#

    /// The admin listener (loopback by default): `/healthz`, `/readyz` and, when given, `/metrics`.
    public func addAdmin(to router: Router<some RequestContext>, metrics: (@Sendable () async -> String)? = nil) {
        router.add(middleware: JSONErrorMiddleware())
        self.addHealth(to: router)
        router.get("/readyz") { _, context in await self.readiness(logger: context.logger) }
        if let metrics {
            router.get("/metrics") { _, _ in PrometheusResponse.make(await metrics()) }
        }
        if self.configuration.console.enabled {
            Console(
                configuration: self.configuration.console, redis: self.redis, keys: self.ingest.keys, rules: self.ingest.rules,
                rulesPath: self.configuration.repliesPath, auditMaxLength: self.configuration.script.auditMaxLength
            ).add(to: router)
        }
    }

    private func addHealth(to router: Router<some RequestContext>) {
        router.get("/healthz") { _, _ in
            JSONResponse.ok("{\"status\":\"ok\",\"instance\":\(JSONValue.string(self.configuration.instanceID).json)}")
        }
    }

    /// `POST /api/webhook/sms-received`: SMSMobileAPI's legacy single or batch format.
    func legacyWebhook(_ request: Request, logger: Logger) async -> Response {
        do throws(PayloadError) {
            let body = Array(try await self.readBody(request, form: false).readableBytesView)
            try self.authenticate(request, route: "legacy", auth: self.configuration.auth.legacy, body: body, form: [], logger: logger)
            var decoded = try LegacyPayload.decode(body, limits: self.configuration.limits)
            // `?channel=NAME`: the configured channel this URL belongs to (SMSMobileAPI's legacy format names none)
            if let name = WebhookAuth.queryParameter("channel", in: request.uri.description) {
                guard let channel = Channel.clean(name) else {
                    throw PayloadError(.invalidPayload, "channel must be 1-64 printable characters", field: "channel")
                }
                decoded.assign(Channel(provider: LegacyPayload.provider, name: channel))
            }
            let summary: IngestSummary
            switch try await self.store(decoded, route: "legacy", logger: logger) {
            case .stored(let stored):
                summary = stored
            case .spooled(let accepted, let rejected):
                if accepted > 0 { return JSONResponse.ok(Self.spooledJSON(accepted: accepted, rejected: rejected)) }
                if !decoded.isBatch, case .rejected(_, _, let error)? = decoded.items.first { return JSONResponse.error(error) }
                return JSONResponse.error(PayloadError(.invalidPayload, "no valid message in the batch"))
            }
            if summary.processed + summary.skipped == 0 {
                if !decoded.isBatch, let error = summary.results.first?.error { return JSONResponse.error(error) }
                let error = PayloadError(.invalidPayload, "no valid message in the batch: \(summary.text.lowercased())")
                return JSONResponse.error(error, extra: summary)
            }
            return JSONResponse.ok(bytes: summary.jsonBytes)
        } catch {
            return JSONResponse.error(error, retryAfter: self.configuration.retryAfterSeconds)
        }
    }

    /// Reads a JSON (or, with `form`, a form-encoded) body within the size limit: 415 for another media type,
    /// 413 when too large. A missing Content-Type is read as the expected one.
    func readBody(_ request: Request, form: Bool) async throws(PayloadError) -> ByteBuffer {
        var contentType: String?
        var contentLength: String?
        for field in request.headers {  // one pass; a subscript per name costs a search (and a join) each
            if field.name == .contentType { contentType = field.value } else if field.name == .contentLength { contentLength = field.value }
        }
        let expected = form ? "application/x-www-form-urlencoded" : "application/json"
        if let type = contentType, type != expected {  // the exact expected type needs no parsing
            let mediaType = String(type.prefix { $0 != ";" }).trimmingWhitespace().lowercased()
            guard mediaType == expected || (!form && mediaType.hasSuffix("+json")) else {
                throw PayloadError(.unsupportedMediaType, "expected Content-Type \(expected), got \(type)")
            }
        }
        let limit = self.configuration.limits.maxBodyBytes
        if let length = contentLength.flatMap({ Int($0) }), length > limit {
            throw PayloadError(.bodyTooLarge, "body of \(length) bytes is over the limit of \(limit)")
        }
        let deadline = self.configuration.bodyTimeout
        do {
            // A client that sends its body too slowly is cut off; others are served meanwhile. The read runs in a
            // child task so that cancelling it at the deadline leaves this one free to answer 408.
            let body = request.body
            async let read = Self.bodyReads.run(within: deadline) { try await body.collect(upTo: limit) }
            guard let buffer = try await read else {
                throw PayloadError(.requestTimeout, "the body did not arrive within \(deadline)")
            }
            return buffer
        } catch let error as PayloadError {
            throw error
        } catch is NIOTooManyBytesError {
            throw PayloadError(.bodyTooLarge, "body is over the limit of \(limit) bytes")
        } catch {
            throw PayloadError(.invalidPayload, "could not read the body: \(error)")
        }
    }

    /// `GET /readyz`: Redis answers PING and has the ingest script (loaded here when missing).
    func readiness(logger: Logger) async -> Response {
        do {
            _ = try await self.redis.send("PING")
            let script = self.ingest.script
            if try await !self.redis.isLoaded(script) { try await self.redis.load(script) }
            return JSONResponse.ok("{\"status\":\"ready\",\"redis\":\"ok\",\"script\":\"loaded\"}")
        } catch {
            logger.warning("not ready", metadata: ["redis.error": "\(error)"])
            let detail = JSONValue.string("\(error)").json
            return JSONResponse.make(
                status: .serviceUnavailable,
                "{\"status\":\"unavailable\",\"redis\":\"error\",\"detail\":\(detail)}",
                retryAfter: self.configuration.retryAfterSeconds)
        }
    }
}
