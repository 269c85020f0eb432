import Hummingbird
import Logging
import NIOCore
import RedisClient
import SMSCore
import SMSStore
import SMSSystem

/// The application's API (`SMSHOOK_API_TOKENS`): send a message (opening the number's conversation), read a message,
/// read a number's history. Bearer tokens, compared in constant time.
extension WebhookRoutes {
    func addAPI(to router: Router<some RequestContext>) {
        guard self.configuration.apiEnabled else { return }
        router.post("/api/v1/messages") { request, context in
            await self.api(request, context.logger) { () async throws(PayloadError) in try await self.send(request, logger: context.logger) }
        }
        router.get("/api/v1/messages/{id}") { request, context in
            let id = context.parameters.get("id") ?? ""
            return await self.api(request, context.logger) { () async throws(PayloadError) in try await self.message(id) }
        }
        router.get("/api/v1/numbers/{number}/messages") { request, context in
            let number = context.parameters.get("number") ?? ""
            return await self.api(request, context.logger) { () async throws(PayloadError) in
                try await self.history(number, query: request.uri.description)
            }
        }
    }

    /// Authenticates, runs `handle`, answers its error as JSON.
    private func api(_ request: Request, _ logger: Logger, _ handle: () async throws(PayloadError) -> Response) async -> Response {
        do throws(PayloadError) {
            let header = request.headers[.authorization] ?? ""
            let token = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : ""
            // every token compared, each in constant time: neither which one matched nor how much of it shows
            let matched = self.configuration.apiTokens.reduce(false) { found, candidate in
                Signatures.constantTimeEquals(candidate, token) || found  // the comparison first: never short-circuited
            }
            guard matched else {
                logger.warning("api call refused: no valid bearer token")
                throw PayloadError(.unauthorized, "a valid bearer token is required (Authorization: Bearer <token>)")
            }
            return try await handle()
        } catch {
            var response = JSONResponse.error(error, retryAfter: self.configuration.retryAfterSeconds)
            if error.code == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
            return response
        }
    }

    /// `POST /api/v1/messages`: validated, then one script call on the recipient's shard (idempotency, opt-out,
    /// job, conversation, record, history, audit). 202 once stored; 409 for an opted-out number.
    func send(_ request: Request, logger: Logger) async throws(PayloadError) -> Response {
        let body = Array(try await self.readBody(request, form: false).readableBytesView)
        let json: JSONValue
        do {
            json = try JSONParser.parse(body)
        } catch {
            throw PayloadError(.invalidJSON, "body is not valid JSON: \(error)")
        }
        let rules = self.ingest.rules.current
        let send = try SendRequest(
            json: json, idempotencyHeader: request.headers[.init("Idempotency-Key")!],
            defaultCountryCode: rules.policy.defaultCountryCode)
        if let channel = send.channel, !(rules.channels ?? []).contains(where: { $0.name == channel }) {
            throw PayloadError(.invalidPayload, "channel '\(channel)' is not declared in the config file", field: "channel")
        }
        let id = JobID.makeMessageID()
        let now = Timestamp.now()
        var job = ReplyJob(id: id, to: send.to, body: send.body, inReplyTo: "", intent: .unknown, provider: "api", createdAt: now)
        job.kind = .message
        job.channel = send.channel.map { Channel(provider: "api", name: $0) }
        var answer = JSONWriter()
        answer.beginObject()
        answer.field("id", id)
        answer.field("status", "queued")
        answer.field("to", send.to)
        answer.field("created_at", now)
        answer.endObject()
        let shard = self.ingest.keys.shard(subscriber: send.to, guid: id)
        let optOut = shard.optOut(channel: rules.optOutPerChannel ? send.channel : nil)
        let call = SendScript.call(
            id: id, request: send, job: job, keys: shard, optOutKey: optOut,
            idempotencyHash: send.idempotencyKey.map { Signatures.sha256Hex($0.utf8) }, answer: answer.text, createdAt: now,
            settings: self.sendSettings)
        let outcome: SendScript.Outcome
        do {
            outcome = try SendScript.Outcome(reply: try await self.redis.evaluate(SendScript.script, keys: call.keys, arguments: call.arguments))
        } catch {
            WebhookMetrics.redisError("send")
            logger.error("api send not stored", metadata: ["redis.error": "\(error)"])
            throw PayloadError(.unavailable, "storage unavailable, nothing was queued; retry later")
        }
        switch outcome {
        case .queued(let json):
            logger.info("api message queued", metadata: ["message.id": "\(id)", "sms.number": "\(IngestService.mask(send.to))"])
            return JSONResponse.make(status: .accepted, json)
        case .replayed(let json):
            var response = JSONResponse.make(status: .accepted, json)
            response.headers[.init("Idempotent-Replayed")!] = "true"
            return response
        case .conflict:
            throw PayloadError(.idempotencyKeyReused, "this idempotency key was used with a different request", field: "idempotency_key")
        case .optedOut:
            throw PayloadError(.optedOut, "\(send.to) has opted out (STOP); nothing was queued", field: "to")
        }
    }

    /// The send settings with each shard's share of the audit cap.
    private var sendSettings: SendScript.Settings {
        var settings = self.configuration.send
        settings.auditMaxLength = self.ingest.keys.perShard(settings.auditMaxLength)
        return settings
    }

    /// `GET /api/v1/messages/{id}`: a sent message (`msg_…`: its record and status) or an inbound guid (its record:
    /// text, intent, language, decision, in_reply_to). Looked up in every shard (the id does not say which).
    func message(_ id: String) async throws(PayloadError) -> Response {
        guard (1...256).contains(id.utf8.count) else { throw PayloadError(.notFound, "no message with this id") }
        let sent = id.hasPrefix("msg_")
        let found = try await self.firstInShards { shard in
            sent ? RedisCommand("HGETALL", RedisArgument(shard.message(id))) : RedisCommand("GET", RedisArgument(shard.dedup(id)))
        }
        guard let found else { throw PayloadError(.notFound, "no message with this id (or it has expired)") }
        if sent {
            return JSONResponse.ok(bytes: Self.messageJSON(found.array ?? []))
        }
        guard let record = found.bytes, record.first == UInt8(ascii: "{") else { throw PayloadError(.notFound, "no message with this id") }
        return JSONResponse.ok(bytes: Array(#"{"direction":"inbound","#.utf8) + record.dropFirst())
    }

    /// `GET /api/v1/numbers/{number}/messages?limit=N`: the number's last messages both ways, newest first.
    func history(_ raw: String, query: String) async throws(PayloadError) -> Response {
        let rules = self.ingest.rules.current
        let number = rules.policy.subscriber(raw.removingPercentEncoding ?? raw)
        var limit = 20
        if let text = WebhookAuth.queryParameter("limit", in: query) {
            guard let n = Int(text), (1...100).contains(n) else {
                throw PayloadError(.invalidPayload, "limit must be a whole number from 1 to 100", field: "limit")
            }
            limit = n
        }
        let shard = self.ingest.keys.shard(subscriber: number, guid: number)
        let entries: [RedisReply]
        do {
            entries = try await self.redis.send("LRANGE", RedisArgument(shard.history(number)), 0, RedisArgument(limit - 1)).array ?? []
        } catch {
            throw PayloadError(.unavailable, "storage unavailable; retry later")
        }
        var out = Array(#"{"number":"#.utf8)
        out += JSONValue.string(number).json.utf8
        out += Array(#","messages":["#.utf8)
        for (i, entry) in entries.compactMap(\.bytes).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += entry
        }
        out += Array("]}".utf8)
        return JSONResponse.ok(bytes: out)
    }

    /// The first non-empty answer to `command` across the shards (concurrently); nil when none has it.
    private func firstInShards(_ command: @escaping @Sendable (RedisKeys) -> RedisCommand) async throws(PayloadError) -> RedisReply? {
        let result: Result<RedisReply?, any Error> = await withTaskGroup(of: Result<RedisReply?, any Error>.self) { group in
            for shard in self.ingest.keys.shards {
                group.addTask {
                    do {
                        let reply = try await self.redis.send(command(shard)).orThrow()
                        if case .null = reply { return .success(nil) }
                        if case .array(let items) = reply, items.isEmpty { return .success(nil) }
                        return .success(reply)
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var failure: (any Error)?
            for await answer in group {
                switch answer {
                case .success(let reply?):
                    group.cancelAll()
                    return .success(reply)
                case .success(nil): continue
                case .failure(let error): failure = error
                }
            }
            return failure.map { .failure($0) } ?? .success(nil)
        }
        do {
            return try result.get()
        } catch {
            throw PayloadError(.unavailable, "storage unavailable; retry later")
        }
    }

    /// A message record (HGETALL's field/value list) as JSON: metadata and reply window as JSON values.
    static func messageJSON(_ pairs: [RedisReply]) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        var i = 0
        while i + 1 < pairs.count {
            if let name = pairs[i].string, let value = pairs[i + 1].string {
                w.key(name)
                if name == "metadata", (try? JSONParser.parse(Array(value.utf8))) != nil {
                    w.rawJSON(value)
                } else if name == "reply_window_seconds", let n = Int(value) {
                    w.int(n)
                } else {
                    w.string(value)
                }
            }
            i += 2
        }
        w.endObject()
        return w.bytes
    }
}
