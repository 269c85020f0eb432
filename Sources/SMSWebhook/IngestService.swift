import Logging
import RedisClient
import SMSCore
import SMSSystem
import SMSStore

/// Classifies validated messages and stores them with ONE script call per shard: dedup, audit and reply job,
/// atomically (`IngestStore`).
public struct IngestService: Sendable {
    var store: IngestStore
    let settings: IngestScript.Settings
    /// Classifier, templates and loop guard: read once per call, replaced whole on a config reload.
    let rules: ReplyRules
    let instance: String
    /// Counts first sightings per minute for the console (nil: not counted).
    var stats: MinuteStats?
    var keys: KeySpace { self.store.keys }

    public init(
        redis: RedisClient, keys: KeySpace, settings: IngestScript.Settings, rules: ReplyRules, instance: String
    ) {
        self.store = IngestStore(redis: redis, keys: keys)
        var settings = settings  // the configured caps are totals: each shard's stream keeps its share
        settings.auditMaxLength = keys.perShard(settings.auditMaxLength)
        settings.rejectedMaxLength = keys.perShard(settings.rejectedMaxLength)
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
        var call = Self.prepare(decoded, rules: self.rules.current, settings: self.settings, instance: self.instance, now: now)
        for result in call.results where result.outcome == .rejected {
            WebhookMetrics.message(outcome: .rejected, intent: nil)
            if let error = result.error {
                logger.info("message rejected", metadata: [
                    "sms.index": "\(result.index)", "sms.error": "\(error.code)", "sms.field": "\(error.field ?? "")",
                ])
            }
        }
        let entries = call.entries
        let stored = try await self.store(entries: entries, rejected: call.rejected, settings: call.settings, logger: logger)
        self.stats?.add("in", stored.reduce(0) { $0 + ($1 == .duplicate ? 0 : 1) })
        var next = 0
        for i in call.results.indices where call.results[i].outcome == .accepted {
            if stored[next] == .duplicate { call.results[i].outcome = .duplicate } else { call.results[i].reply = stored[next].rawValue }
            let n = next  // entries[n] is read in place: copying an entry retains all its strings
            WebhookMetrics.message(outcome: call.results[i].outcome, intent: entries[n].classification.intent)
            logger.info("message ingested", metadata: [
                "sms.guid": "\(entries[n].message.guid)", "sms.outcome": "\(call.results[i].outcome.rawValue)",
                "sms.intent": "\(entries[n].classification.intent.rawValue)", "sms.reply": "\(stored[n].rawValue)",
                "sms.number": "\(Self.mask(entries[n].message.number))",
            ])
            logger.debug("message body", metadata: [
                "sms.guid": "\(entries[n].message.guid)", "sms.number": "\(entries[n].message.number ?? "")",
                "sms.message": "\(entries[n].message.message)",
            ])
            next += 1
        }
        return IngestSummary(results: call.results)
    }

    /// One call's work before Redis: the script's entries and rejected records, the results in request order (an
    /// accepted message's outcome is settled by the store), and the settings in force.
    public struct Prepared: Sendable {
        public var entries: [IngestScript.Entry]
        public var rejected: [String]
        public var results: [IngestSummary.Result]
        public var settings: IngestScript.Settings
    }

    /// Classifies and decides each accepted message and writes each refused item's record: pure, no I/O.
    public static func prepare(
        _ decoded: LegacyPayload.Decoded, rules: ReplyRules.Snapshot, settings: IngestScript.Settings, instance: String,
        now: String
    ) -> Prepared {
        let settings = Self.settings(settings, rules: rules)
        let events = !settings.eventEndpoints.isEmpty
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
                    instance: instance, receivedAt: now, subscriber: subscriber))
                if rules.optOutPerChannel { entries[entries.count - 1].optOutChannel = message.channel?.name }
                if events { entries[entries.count - 1].eventID = JobID.makeEventID() }
                results.append(.init(
                    guid: message.guid, derived: message.guidDerived, outcome: .accepted,
                    intent: classification.intent, index: results.count))
            case .rejected(let index, let raw, let error):
                rejected.append(IngestScript.rejectedRecord(raw: raw, index: index, error: error, instance: instance, at: now))
                results.append(.init(
                    guid: raw["guid"]?.stringValue, outcome: .rejected, intent: nil, index: index, error: error))
            }
        }
        return Prepared(entries: entries, rejected: rejected, results: results, settings: settings)
    }

    /// The settings of a call under `rules`: the loop guard, the event endpoints and the opt-out scope come from the
    /// config, which a reload replaces.
    public static func settings(_ settings: IngestScript.Settings, rules: ReplyRules.Snapshot) -> IngestScript.Settings {
        var settings = settings
        settings.maxRepliesPerWindow = rules.policy.maxRepliesPerWindow
        settings.replyWindowSeconds = rules.policy.windowSeconds
        settings.eventEndpoints = rules.ingestEvents
        settings.optOutPerChannel = rules.optOutPerChannel
        return settings
    }

    /// The ingest script for the settings in force now (a config reload can change it).
    public var script: RedisScript { IngestScript.script(for: Self.settings(self.settings, rules: self.rules.current)) }

    /// Runs the ingest script (one call per shard); per entry, its outcome.
    private func store(
        entries: [IngestScript.Entry], rejected: [String], settings: IngestScript.Settings, logger: Logger
    ) async throws(PayloadError) -> [IngestOutcome] {
        do {
            return try await self.store.store(entries, rejected: rejected, settings: settings)
        } catch {
            switch error {
            case .notReplicated(let acked, let required):
                WebhookMetrics.redisError("replication")
                logger.error("ingest not replicated in time", metadata: ["redis.replicas": "\(acked)"])
                throw PayloadError(.unavailable, "stored on \(acked) of \(required) required replicas; retry later")
            case .unexpectedReply(let reply):
                logger.error("ingest script gave an unexpected reply", metadata: ["redis.reply": "\(reply)"])
                throw PayloadError(.unavailable, "storage gave an unexpected answer; retry later")
            case .unavailable(let error):
                WebhookMetrics.redisError("ingest")
                logger.error("ingest not stored", metadata: ["redis.error": "\(error)", "sms.count": "\(entries.count)"])
                throw PayloadError(.unavailable, "storage unavailable, nothing was recorded; retry later")
            }
        }
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
            try await self.store.redis.send(
                "XADD", RedisArgument(self.keys.shard(subscriber: nil, guid: id ?? type).audit), "MAXLEN", "~", RedisArgument(self.settings.auditMaxLength), "*",
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
