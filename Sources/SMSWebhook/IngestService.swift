import Logging
import RedisClient
import SMSCore

/// Classifies validated messages and stores them with ONE script call: dedup, audit and reply job, atomically.
public struct IngestService: Sendable {
    public static let script = RedisScript(IngestScript.source)

    let redis: RedisClient
    let keys: RedisKeys
    let settings: IngestScript.Settings
    /// Classifier, templates and loop guard: read once per call, replaced whole on a config reload.
    let rules: ReplyRules
    let instance: String
    /// Replicas that must acknowledge the writes before an answer (0 = none), and how long to wait for them.
    var minReplicasAck = 0
    var replicaAckTimeout: Duration = .seconds(1)

    public init(
        redis: RedisClient, keys: RedisKeys, settings: IngestScript.Settings, rules: ReplyRules, instance: String
    ) {
        self.redis = redis
        self.keys = keys
        self.settings = settings
        self.rules = rules
        self.instance = instance
    }

    /// Stores what is valid and keeps what is not in the rejected stream. Throws `.unavailable` when Redis
    /// cannot confirm the write: nothing may be acknowledged then.
    /// - Parameter receivedAt: when the call arrived, for a call replayed from the spool; now when nil.
    public func ingest(_ decoded: LegacyPayload.Decoded, logger: Logger, receivedAt: String? = nil) async throws(PayloadError) -> IngestSummary {
        let started = ContinuousClock.now
        defer { WebhookMetrics.ingestDuration.record(duration: ContinuousClock.now - started) }
        let now = receivedAt ?? Timestamp.now()
        let rules = self.rules.current
        var settings = self.settings
        settings.maxRepliesPerWindow = rules.policy.maxRepliesPerWindow
        settings.replyWindowSeconds = rules.policy.windowSeconds
        var entries: [IngestScript.Entry] = []
        entries.reserveCapacity(decoded.items.count)
        var rejected: [String] = []
        var results: [IngestSummary.Result] = []
        results.reserveCapacity(decoded.items.count)
        for item in decoded.items {
            switch item {
            case .accepted(var message):
                if let channel = message.channel, channel.name == nil, let channels = rules.channels {
                    message.channel?.name = channels.resolve(channel)
                }
                let classification = rules.classifier.classify(message.message)
                let subscriber = message.number.map(rules.policy.subscriber)
                var job: ReplyJob?
                var reason: String?
                switch rules.policy.decide(message, classification: classification) {
                case .reply(let body):
                    job = ReplyJob(
                        id: JobID.make(), to: subscriber ?? "", body: body, inReplyTo: message.guid,
                        intent: classification.intent, provider: message.provider, createdAt: now)
                    job?.channel = message.channel
                case .none(let why):
                    reason = why
                }
                entries.append(IngestScript.Entry(
                    message: message, classification: classification, job: job, noReplyReason: reason,
                    instance: self.instance, receivedAt: now, subscriber: subscriber))
                if rules.optOutPerChannel { entries[entries.count - 1].optOutChannel = message.channel?.name }
                results.append(.init(
                    guid: message.guid, derived: message.guidDerived, outcome: .accepted,
                    intent: classification.intent, index: results.count))
            case .rejected(let index, let raw, let error):
                WebhookMetrics.message(outcome: .rejected, intent: nil)
                rejected.append(IngestScript.rejectedRecord(raw: raw, index: index, error: error, instance: self.instance, at: now))
                results.append(.init(
                    guid: raw["guid"]?.stringValue, outcome: .rejected, intent: nil, index: index, error: error))
                logger.info("message rejected", metadata: [
                    "sms.index": "\(index)", "sms.error": "\(error.code)", "sms.field": "\(error.field ?? "")",
                ])
            }
        }
        let stored = try await self.store(entries: entries, rejected: rejected, settings: settings, logger: logger)
        var next = 0
        for i in results.indices where results[i].outcome == .accepted {
            if stored[next] == "duplicate" { results[i].outcome = .duplicate } else { results[i].reply = stored[next] }
            let n = next  // entries[n] is read in place: copying an entry retains all its strings
            WebhookMetrics.message(outcome: results[i].outcome, intent: entries[n].classification.intent)
            logger.info("message ingested", metadata: [
                "sms.guid": "\(entries[n].message.guid)", "sms.outcome": "\(results[i].outcome.rawValue)",
                "sms.intent": "\(entries[n].classification.intent.rawValue)", "sms.reply": "\(stored[n])",
                "sms.number": "\(Self.mask(entries[n].message.number))",
            ])
            logger.debug("message body", metadata: [
                "sms.guid": "\(entries[n].message.guid)", "sms.number": "\(entries[n].message.number ?? "")",
                "sms.message": "\(entries[n].message.message)",
            ])
            next += 1
        }
        return IngestSummary(results: results)
    }

    /// The request's one `EVALSHA`: KEYS, ARGV and the JSON records written straight into one RESP buffer.
    public static func call(entries: [IngestScript.Entry], rejected: [String], keys: RedisKeys, settings: IngestScript.Settings)
        -> RedisCommand
    {
        let counts = IngestScript.counts(entries: entries.count, rejected: rejected.count)
        var builder = RedisCommandBuilder(
            evaluating: Self.script, keys: counts.keys, arguments: counts.arguments,
            capacity: 512 + 1024 * entries.count + rejected.reduce(0) { $0 + $1.utf8.count + 16 })
        IngestScript.write(entries: entries, rejected: rejected, keys: keys, settings: settings) { builder.append($0) }
        return builder.command
    }

    /// Runs the ingest script; returns, per entry, `duplicate` or the reply decision.
    private func store(
        entries: [IngestScript.Entry], rejected: [String], settings: IngestScript.Settings, logger: Logger
    ) async throws(PayloadError)
        -> [String]
    {
        if entries.isEmpty && rejected.isEmpty { return [] }
        let call = Self.call(entries: entries, rejected: rejected, keys: self.keys, settings: settings)
        let reply: RedisReply
        do {
            if self.minReplicasAck > 0 {
                let (r, acked) = try await self.redis.evaluate(
                    Self.script, call: call, waitForReplicas: self.minReplicasAck, timeout: self.replicaAckTimeout)
                guard acked >= self.minReplicasAck else {
                    WebhookMetrics.redisError("replication")
                    logger.error("ingest not replicated in time", metadata: ["redis.replicas": "\(acked)"])
                    throw PayloadError(.unavailable, "stored on \(acked) of \(self.minReplicasAck) required replicas; retry later")
                }
                reply = r
            } else {
                reply = try await self.redis.evaluate(Self.script, call: call)
            }
        } catch let error as PayloadError {
            throw error
        } catch {
            WebhookMetrics.redisError("ingest")
            logger.error("ingest not stored", metadata: ["redis.error": "\(error)", "sms.count": "\(entries.count)"])
            throw PayloadError(.unavailable, "storage unavailable, nothing was recorded; retry later")
        }
        guard let outcomes = reply.array?.compactMap({ $0.string }), outcomes.count == entries.count else {
            logger.error("ingest script gave an unexpected reply", metadata: ["redis.reply": "\(reply)"])
            throw PayloadError(.unavailable, "storage gave an unexpected answer; retry later")
        }
        return outcomes
    }

    /// Records a provider event that carries no message (acknowledged, not processed) in the audit stream.
    public func recordEvent(provider: String, type: String, id: String?, raw: [UInt8], logger: Logger) async throws(PayloadError) {
        var w = JSONWriter()
        w.beginObject()
        w.field("provider", provider)
        w.field("type", type)
        w.field("id", ifPresent: id)
        w.field("instance", self.instance)
        w.field("received_at", Timestamp.now())
        w.key("raw")
        w.write((try? JSONParser.parse(raw)) ?? .string(String(decoding: raw, as: UTF8.self)))
        w.endObject()
        do {
            try await self.redis.send(
                "XADD", RedisArgument(self.keys.audit), "MAXLEN", "~", RedisArgument(self.settings.auditMaxLength), "*",
                "event", "provider_event", "decision", "acknowledged", "data", RedisArgument(w.text))
        } catch {
            logger.error("provider event not recorded", metadata: ["redis.error": "\(error)"])
            throw PayloadError(.unavailable, "storage unavailable, nothing was recorded; retry later")
        }
        logger.info("provider event acknowledged", metadata: ["provider": "\(provider)", "event.type": "\(type)"])
    }

    /// `+1555***4567`: enough to correlate, not the whole number.
    static func mask(_ number: String?) -> String {
        guard let number else { return "-" }
        guard number.count > 6 else { return "***" }
        return String(number.prefix(4)) + "***" + String(number.suffix(4))
    }
}
