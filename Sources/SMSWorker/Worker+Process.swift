import Foundation
import Metrics
import RedisClient
import SMSCore
import SMSSystem
import SMSStore

extension Worker {
    /// One job: channel, rate limit, claim (the fence: still owned, not sent, not opted out), send, finish. Redis
    /// hiccups are retried; the send happens at most once here.
    func process(_ raw: [UInt8], shard: RedisKeys) async {
        guard let job = try? ReplyJob(json: JSONParser.parse(raw)) else {
            let channel = self.channels.fallback
            let record = JSONValue.object([
                ("raw", .string(String(decoding: raw, as: UTF8.self))), ("error", .string("unreadable job")),
                ("failed_at", .string(Self.now())),
            ]).json
            await self.finish(shard, raw, job: nil, channel: channel, outcome: "dead", detail: record, error: "unreadable job")
            return
        }
        let channel: ChannelSender
        switch self.channels.route(job) {
        case .success(let c):
            channel = c
        case .failure(let refused):
            self.logger.error("no channel for the reply; job is dead", metadata: ["job.id": "\(job.id)", "send.error": "\(refused.message)"])
            await self.finish(shard, 
                raw, job: job, channel: self.channels.fallback, outcome: "dead",
                detail: self.deadRecord(job, error: refused.message), error: refused.message)
            return
        }
        if let due = await self.waitForRateLimit(channel) {
            // this channel is saturated: the job waits in the retry set, not in a fetch loop other channels need
            await self.deferJob(shard, raw, job: job, channel: channel, until: due)
            return
        }
        // the fence, as close to the send as it can be: still ours, not sent, not opted out
        guard let claim = await self.withRedisRetry({ try await self.claim(shard, raw, job) }) else { return }
        switch claim {
        case .send:
            break
        case .fenced:
            // reaped while stalled: the job is another worker's now, and this one must not send it
            self.logger.warning("job no longer owned (reaped while this worker stalled); not sending", metadata: ["job.id": "\(job.id)"])
            Counter(label: "smshook_worker_fenced_total").increment()
            return
        case .skip(let outcome):
            await self.finish(shard, raw, job: job, channel: channel, outcome: outcome, detail: "", error: nil)
            return
        case .busy(let ms):
            // a reaped worker claimed it and may have sent it: look again when its claim lapses
            let due = Int64((Date().timeIntervalSince1970 * 1000).rounded()) + min(max(ms, 0), 86_400_000) + 100
            await self.deferJob(shard, raw, job: job, channel: channel, until: due)
            return
        }
        let started = ContinuousClock.now
        let result = await channel.sender.send(job)
        let elapsed = ContinuousClock.now - started
        channel.sendDuration.record(duration: elapsed)
        switch result {
        case .sent(let providerID):
            self.logger.info("reply sent", metadata: [
                "job.id": "\(job.id)", "sms.guid": "\(job.inReplyTo)", "send.ms": "\(elapsed.milliseconds)",
            ])
            await self.finish(shard, raw, job: job, channel: channel, outcome: "sent", detail: "", error: nil, providerID: providerID)
        case .retryable(let reason, let retryAfter):
            if Task.isCancelled { return }  // stopping past the deadline: the job goes back to the queue as it is
            let attempt = job.attempt + 1
            if self.configuration.backoff.isExhausted(afterAttempt: attempt) {
                let error = "gave up after \(attempt) attempts: \(reason)"
                await self.finish(shard, raw, job: job, channel: channel, outcome: "dead", detail: self.deadRecord(job, error: error), error: error)
                return
            }
            let delay = self.configuration.backoff.delay(afterAttempt: attempt, retryAfter: retryAfter, random: Double.random(in: 0..<1))
            var next = job
            next.attempt = attempt
            let due = Int64((Date().timeIntervalSince1970 + delay) * 1000)
            self.logger.warning("send failed; will retry", metadata: [
                "job.id": "\(job.id)", "send.error": "\(reason)", "retry.in_s": "\(Int(delay.rounded()))", "attempt": "\(attempt)",
            ])
            await self.finish(shard, raw, job: job, channel: channel, outcome: "retry", detail: next.json, error: reason, due: due)
        case .permanent(let reason, let optOut):
            self.logger.error("send refused; job is dead", metadata: ["job.id": "\(job.id)", "send.error": "\(reason)"])
            await self.finish(shard, 
                raw, job: job, channel: channel, outcome: "dead", detail: self.deadRecord(job, error: reason), error: reason,
                optOut: optOut ? job.to : nil)
        }
    }

    /// Back to the retry set unchanged, due at `due` (ms), not audited: a saturated channel or another worker's claim.
    private func deferJob(_ shard: RedisKeys, _ raw: [UInt8], job: ReplyJob, channel: ChannelSender, until due: Int64) async {
        await self.finish(shard, raw, job: job, channel: channel, outcome: "deferred", detail: String(decoding: raw, as: UTF8.self), error: nil, due: due)
    }

    /// The opt-out set that applies to `job`: its channel's when opt-out is scoped per channel, else the global one.
    func optOutKey(_ job: ReplyJob, _ shard: RedisKeys) -> String {
        shard.optOut(channel: self.configuration.optOutPerChannel ? job.channel?.name : nil)
    }

    /// `WorkerScripts.claim`: still ours, not sent, not opted out; the send marker then holds our lease.
    private func claim(_ shard: RedisKeys, _ raw: [UInt8], _ job: ReplyJob) async throws -> WorkerScripts.Claim {
        let keys = [self.processingKeys[shard.index], shard.sent(job.id), self.optOutKey(job, shard)].map { RedisArgument($0) }
        // The one opt-out confirmation is meant for a number that has just opted out.
        let number = job.intent == .optOut ? "" : job.to
        return try WorkerScripts.Claim(reply: try await self.redis.evaluate(
            WorkerScripts.claim, keys: keys,
            arguments: [
                RedisArgument(bytes: raw), RedisArgument(self.configuration.workerID),
                RedisArgument(self.configuration.sendLeaseMS), RedisArgument(number),
            ]))
    }

    /// Takes this channel's turn (GCRA per channel, shared by all workers). A short wait is slept here; past
    /// `maxRateWait` the due time (ms) is returned instead, so the job is deferred and the fetch loop stays free for
    /// other channels: a saturated channel does not slow another.
    private func waitForRateLimit(_ channel: ChannelSender) async -> Int64? {
        guard channel.ratePerSecond > 0 else { return nil }
        let interval = 1000 / channel.ratePerSecond
        let tolerance = interval * Double(channel.burst - 1)
        let key = RedisArgument(self.keys.sendRate(channel.name))
        while !Task.isCancelled {
            let wait = await self.withRedisRetry {
                try await self.redis.evaluate(
                    WorkerScripts.rateLimit, keys: [key],
                    arguments: [RedisArgument(String(Int(interval.rounded()))), RedisArgument(String(Int(tolerance.rounded())))]
                ).int ?? 0
            }
            guard let wait, wait > 0 else { return nil }
            if wait > Self.maxRateWaitMS { return Int64((Date().timeIntervalSince1970 * 1000).rounded()) + wait }
            try? await Task.sleep(for: .milliseconds(wait))
        }
        return nil
    }

    /// Longest rate-limit wait slept in a fetch loop.
    static let maxRateWaitMS: Int64 = 50

    /// The one atomic step that ends a job's stay in this worker's processing list.
    func finish(
        _ shard: RedisKeys, _ raw: [UInt8], job: ReplyJob?, channel: ChannelSender, outcome: String, detail: String, error: String?,
        providerID: String? = nil, due: Int64 = 0, optOut: String? = nil
    ) async {
        var w = JSONWriter()
        w.beginObject()
        w.field("job_id", ifPresent: job?.id)
        w.field("to", ifPresent: job?.to)
        w.field("in_reply_to", ifPresent: job?.inReplyTo)
        w.field("intent", ifPresent: job?.intent.rawValue)
        w.field("provider", channel.sender.name)
        w.field("channel", channel.name)
        if let job { w.field("attempt", job.attempt + 1) }
        w.field("worker", self.configuration.workerID)
        w.field("provider_id", ifPresent: providerID)
        w.field("error", ifPresent: error)
        w.field("at", Self.now())
        w.endObject()
        let failed = outcome == "dead" || outcome == "skipped_optout"
        let event = job.flatMap { job in
            outcome == "sent" || failed
                ? self.outcomeEvent(job, sent: !failed, providerID: providerID, error: failed ? error ?? outcome : nil, shard: shard) : nil
        }
        // an API message's record follows its fate (replies have none)
        let record = job.flatMap { $0.kind == .message ? shard.message($0.id) : nil }
        if outcome == "sent" {
            await self.finishSent(
                shard, raw, jobID: job?.id ?? "-", record: w.bytes, optOut: optOut,
                optOutKey: job.map { self.optOutKey($0, shard) } ?? shard.optOut, message: record, providerID: providerID,
                event: event)
        } else {
            let sentKey = shard.sent(job?.id ?? "-")
            // the provider said the number refuses messages: tell the endpoints taking optout.changed
            let optOutEvent = optOut.flatMap { number in self.optOutEvent(number, channel: job?.channel?.name, shard: shard) }
            let keys = ([
                self.processingKeys[shard.index], shard.audit, shard.retry, shard.dead,
                job.map { self.optOutKey($0, shard) } ?? shard.optOut, sentKey, record ?? sentKey,
            ] + (event?.keys ?? []) + (optOutEvent?.keys ?? [])).map { RedisArgument($0) }
            let arguments = [
                RedisArgument(bytes: raw), RedisArgument(outcome), RedisArgument(self.auditMaxLength),
                RedisArgument(bytes: w.bytes), RedisArgument(detail), RedisArgument(String(due)),
                RedisArgument(self.configuration.deadMax), RedisArgument(optOut ?? ""), RedisArgument(self.configuration.workerID),
                RedisArgument(bytes: event?.entry ?? (failed && record != nil ? Array("-".utf8) : [])),
                RedisArgument(error ?? outcome), RedisArgument(Self.now()), RedisArgument(self.configuration.recordTTL),
                RedisArgument(bytes: optOutEvent?.entry ?? []), RedisArgument(event?.keys.count ?? 0),
            ]
            _ = await self.withRedisRetry {
                try await self.redis.evaluate(WorkerScripts.finish, keys: keys, arguments: arguments)
            }
        }
        if outcome != "deferred" { channel.count(outcome) }
        if outcome == "sent" { self.stats.add("out") }
    }

    /// A sent job: sent-marker, removal from the processing list and audit in one MULTI/EXEC. Unlike the other
    /// outcomes it has no condition (the marker is set even when the reaper already took the job, so the copy it
    /// returned is skipped), so it needs no script and costs a fraction of one.
    private func finishSent(
        _ shard: RedisKeys, _ raw: [UInt8], jobID: String, record: [UInt8], optOut: String?, optOutKey: String,
        message: String?, providerID: String?, event: (keys: [String], entry: [UInt8])?
    ) async {
        var transaction = [
            RedisCommand("MULTI"),
            RedisCommand("LREM", RedisArgument(self.processingKeys[shard.index]), 1, RedisArgument(bytes: raw)),
            RedisCommand("SET", RedisArgument(shard.sent(jobID)), "1", "EX", RedisArgument(self.configuration.sentMarkerTTL)),
        ]
        if let optOut { transaction.append(RedisCommand("SADD", RedisArgument(optOutKey), RedisArgument(optOut))) }
        if let message {
            transaction.append(RedisCommand(
                "HSET", RedisArgument(message), "status", "sent", "provider_id", RedisArgument(providerID ?? ""),
                "updated_at", RedisArgument(Self.now())))
            transaction.append(RedisCommand("EXPIRE", RedisArgument(message), RedisArgument(self.configuration.recordTTL)))
        }
        for key in event?.keys ?? [] {
            transaction.append(RedisCommand("LPUSH", RedisArgument(key), RedisArgument(bytes: event?.entry ?? [])))
        }
        transaction.append(RedisCommand(
            "XADD", RedisArgument(shard.audit), "MAXLEN", "~", RedisArgument(self.auditMaxLength), "*",
            "event", "send", "decision", "sent", "data", RedisArgument(bytes: record)))
        transaction.append(RedisCommand("EXEC"))
        let commands = transaction
        _ = await self.withRedisRetry {
            let replies = try await self.redis.pipeline(commands)
            guard case .array = replies[replies.count - 1] else {
                throw RedisError(.server, "sent transaction: \(replies[replies.count - 1])")
            }
            return true
        }
    }

    func deadRecord(_ job: ReplyJob, error: String) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.key("job")
        w.rawJSON(job.json)
        w.field("error", error)
        w.field("failed_at", Self.now())
        w.endObject()
        return w.text
    }

    /// Runs a Redis step until it succeeds, backing off; gives up (nil) once stopping and past a few tries.
    func withRedisRetry<T: Sendable>(_ step: @Sendable () async throws -> T) async -> T? {
        var failures = 0
        while true {
            do {
                return try await step()
            } catch {
                failures += 1
                Counter(label: "smshook_redis_errors_total", dimensions: [("component", "worker")]).increment()
                if failures == 1 { self.logger.error("redis step failed; retrying", metadata: ["redis.error": "\(error)"]) }
                if (self.isStopping || Task.isCancelled) && failures >= 3 { return nil }
                try? await Task.sleep(for: .milliseconds(min(2000, 50 * (1 << min(failures, 6)))))
            }
        }
    }

    static func now() -> String { Timestamp.now() }
}

extension Duration {
    var milliseconds: Int64 { self.components.seconds * 1000 + self.components.attoseconds / 1_000_000_000_000_000 }
}
