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
        guard let item = await self.route(raw, shard: shard) else { return }
        await self.process(item, shard: shard)
    }

    /// Jobs fetched together: the claims of those on channels without a send rate in one round trip, their sends one
    /// at a time in order, and the finishing transactions of the sent ones together (in one round trip, unless the
    /// first of them has waited `pendingSentLimit`: a crash between a send and its finish is what may send twice).
    /// A claim older than `claimFreshness` when its turn comes is taken again alone, so that a send always starts
    /// well inside the claim's lease. A job on a rate-limited channel takes its turn alone (`process(_:shard:)`),
    /// after the others: its token wait and deferral (Redis round trips) never hold back another channel's jobs.
    func process(batch raws: [[UInt8]], shard: RedisKeys) async {
        var ready: [Routed] = []
        var limited: [Routed] = []
        for raw in raws {
            guard let item = await self.route(raw, shard: shard) else { continue }
            if item.channel.ratePerSecond > 0 { limited.append(item) } else { ready.append(item) }
        }
        if !ready.isEmpty { await self.sendTogether(ready, shard: shard) }
        for item in limited {
            if Task.isCancelled { break }  // past the drain deadline: the rest are given back
            await self.process(item, shard: shard)
        }
    }

    /// Jobs on channels without a send rate, fetched together: one round trip of claims, the sends in order, the
    /// sent ones' finishes committed together.
    private func sendTogether(_ ready: [Routed], shard: RedisKeys) async {
        let replies = await self.redis.evaluateEach(WorkerScripts.claim, calls: ready.map { self.claimCall(shard, $0) })
        let claimed = ContinuousClock.now
        let freshness = min(Duration.seconds(1), Duration.milliseconds(self.configuration.sendLeaseMS / 4))
        var pending: [SentJob] = []
        var pendingSince = claimed
        for (item, reply) in zip(ready, replies) {
            // past the drain deadline: the rest stay in the processing list and are given back (their claims lapse)
            if Task.isCancelled { break }
            var claim = try? WorkerScripts.Claim(reply: reply.get())
            if claim == nil || ContinuousClock.now - claimed > freshness {
                claim = await self.withRedisRetry { try await self.claim(shard, item) }
            }
            // nil: stopping with Redis away; the rest stays in the processing list and is given back
            guard let claim else { break }
            guard let sent = await self.send(item, claim, shard: shard) else { continue }
            if pending.isEmpty { pendingSince = ContinuousClock.now }
            pending.append(sent)
            if ContinuousClock.now - pendingSince >= Self.pendingSentLimit {
                await self.commitSent(pending)
                pending = []
            }
        }
        if !pending.isEmpty { await self.commitSent(pending) }
    }

    /// Longest a sent job of a batch waits for its finishing transaction while the batch's next jobs are sent.
    static let pendingSentLimit = Duration.milliseconds(20)

    /// A readable job with its channel.
    struct Routed {
        let raw: [UInt8]
        let job: ReplyJob
        let channel: ChannelSender
    }

    /// A sent job's finishing transaction (`sentTransaction`), committed with the others of its batch.
    struct SentJob: Sendable {
        let commands: [RedisCommand]
        let channel: ChannelSender
    }

    /// The job and its channel; nil when there is none (unreadable, no channel): the job is then finished as dead.
    private func route(_ raw: [UInt8], shard: RedisKeys) async -> Routed? {
        guard let job = try? ReplyJob(json: JSONParser.parse(raw)) else {
            let channel = self.channels.fallback
            let record = JSONValue.object([
                ("raw", .string(String(decoding: raw, as: UTF8.self))), ("error", .string("unreadable job")),
                ("failed_at", .string(Self.now())),
            ]).json
            await self.finish(shard, raw, job: nil, channel: channel, outcome: "dead", detail: record, error: "unreadable job")
            return nil
        }
        switch self.channels.route(job) {
        case .success(let channel):
            return Routed(raw: raw, job: job, channel: channel)
        case .failure(let refused):
            self.logger.error("no channel for the reply; job is dead", metadata: ["job.id": "\(job.id)", "send.error": "\(refused.message)"])
            await self.finish(shard, 
                raw, job: job, channel: self.channels.fallback, outcome: "dead",
                detail: self.deadRecord(job, error: refused.message), error: refused.message)
            return nil
        }
    }

    /// One routed job on its own: rate limit, claim, send, finish.
    private func process(_ item: Routed, shard: RedisKeys) async {
        if let due = await self.waitForRateLimit(item.channel) {
            // this channel is saturated: the job waits in the retry set, not in a fetch loop other channels need
            await self.deferJob(shard, item.raw, job: item.job, channel: item.channel, until: due)
            return
        }
        // the fence, as close to the send as it can be: still ours, not sent, not opted out
        guard let claim = await self.withRedisRetry({ try await self.claim(shard, item) }) else { return }
        if let sent = await self.send(item, claim, shard: shard) { await self.commitSent([sent]) }
    }

    /// What follows a claim: the send when it says so, then the job's finish. A sent job's finishing transaction is
    /// returned for the caller to commit; every other outcome is finished here.
    private func send(_ item: Routed, _ claim: WorkerScripts.Claim, shard: RedisKeys) async -> SentJob? {
        let (raw, job, channel) = (item.raw, item.job, item.channel)
        switch claim {
        case .send:
            break
        case .fenced:
            // reaped while stalled: the job is another worker's now, and this one must not send it
            self.logger.warning("job no longer owned (reaped while this worker stalled); not sending", metadata: ["job.id": "\(job.id)"])
            Counter(label: "smshook_worker_fenced_total").increment()
            return nil
        case .skip(let outcome):
            await self.finish(shard, raw, job: job, channel: channel, outcome: outcome, detail: "", error: nil)
            return nil
        case .busy(let ms):
            // a reaped worker claimed it and may have sent it: look again when its claim lapses
            let due = Int64((Date().timeIntervalSince1970 * 1000).rounded()) + min(max(ms, 0), 86_400_000) + 100
            await self.deferJob(shard, raw, job: job, channel: channel, until: due)
            return nil
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
            return SentJob(commands: self.sentTransaction(shard, raw, job: job, channel: channel, providerID: providerID), channel: channel)
        case .retryable(let reason, let retryAfter):
            if Task.isCancelled { return nil }  // stopping past the deadline: the job goes back to the queue as it is
            let attempt = job.attempt + 1
            if self.configuration.backoff.isExhausted(afterAttempt: attempt) {
                let error = "gave up after \(attempt) attempts: \(reason)"
                await self.finish(shard, raw, job: job, channel: channel, outcome: "dead", detail: self.deadRecord(job, error: error), error: error)
                return nil
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
        return nil
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
    private func claim(_ shard: RedisKeys, _ item: Routed) async throws -> WorkerScripts.Claim {
        try WorkerScripts.Claim(reply: try await self.redis.evaluate(WorkerScripts.claim, call: self.claimCall(shard, item)))
    }

    private func claimCall(_ shard: RedisKeys, _ item: Routed) -> RedisCommand {
        // The one opt-out confirmation is meant for a number that has just opted out.
        let number = item.job.intent == .optOut ? "" : item.job.to
        // written straight into one buffer: this and the sent transaction run once per job
        var call = RedisCommandBuilder(evaluating: WorkerScripts.claim, keys: 3, arguments: 4, capacity: item.raw.count + 256)
        call.append(self.processingKeys[shard.index])
        call.append(shard.sent(item.job.id))
        call.append(self.optOutKey(item.job, shard))
        call.append(item.raw)
        call.append(self.configuration.workerID)
        call.append(self.configuration.sendLeaseMS)
        call.append(number)
        return call.command
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

    /// The one atomic step that ends a stay in this worker's processing list of a job that was not sent (a sent one
    /// needs no condition: `sentTransaction`).
    func finish(
        _ shard: RedisKeys, _ raw: [UInt8], job: ReplyJob?, channel: ChannelSender, outcome: String, detail: String, error: String?,
        due: Int64 = 0, optOut: String? = nil
    ) async {
        let record = self.sendRecord(job: job, channel: channel, providerID: nil, error: error)
        let failed = outcome == "dead" || outcome == "skipped_optout"
        let event = job.flatMap { job in
            failed ? self.outcomeEvent(job, sent: false, providerID: nil, error: error ?? outcome, shard: shard) : nil
        }
        // an API message's record follows its fate (replies have none)
        let message = job.flatMap { $0.kind == .message ? shard.message($0.id) : nil }
        let sentKey = shard.sent(job?.id ?? "-")
        // the provider said the number refuses messages: tell the endpoints taking optout.changed
        let optOutEvent = optOut.flatMap { number in self.optOutEvent(number, channel: job?.channel?.name, shard: shard) }
        let keys = ([
            self.processingKeys[shard.index], shard.audit, shard.retry, shard.dead,
            job.map { self.optOutKey($0, shard) } ?? shard.optOut, sentKey, message ?? sentKey,
        ] + (event?.keys ?? []) + (optOutEvent?.keys ?? [])).map { RedisArgument($0) }
        let arguments = [
            RedisArgument(bytes: raw), RedisArgument(outcome), RedisArgument(self.auditMaxLength),
            RedisArgument(bytes: record), RedisArgument(detail), RedisArgument(String(due)),
            RedisArgument(self.configuration.deadMax), RedisArgument(optOut ?? ""), RedisArgument(self.configuration.workerID),
            RedisArgument(bytes: event?.entry ?? (failed && message != nil ? Array("-".utf8) : [])),
            RedisArgument(error ?? outcome), RedisArgument(Self.now()), RedisArgument(self.configuration.recordTTL),
            RedisArgument(bytes: optOutEvent?.entry ?? []), RedisArgument(event?.keys.count ?? 0),
        ]
        _ = await self.withRedisRetry {
            try await self.redis.evaluate(WorkerScripts.finish, keys: keys, arguments: arguments)
        }
        if outcome != "deferred" { channel.count(outcome) }
    }

    /// The audit entry's data of a send outcome.
    private func sendRecord(job: ReplyJob?, channel: ChannelSender, providerID: String?, error: String?) -> [UInt8] {
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
        return w.bytes
    }

    /// A sent job's finish: sent-marker, removal from the processing list, audit (and the message record, the
    /// `message.sent`/`reply.sent` event) in one MULTI/EXEC. Unlike the other outcomes it has no condition (the marker
    /// is set even when the reaper already took the job, so the copy it returned is skipped), so it needs no script
    /// and costs a fraction of one.
    private func sentTransaction(_ shard: RedisKeys, _ raw: [UInt8], job: ReplyJob, channel: ChannelSender, providerID: String?)
        -> [RedisCommand]
    {
        let record = self.sendRecord(job: job, channel: channel, providerID: providerID, error: nil)
        let event = self.outcomeEvent(job, sent: true, providerID: providerID, error: nil, shard: shard)
        // the per-job commands written straight into their buffers, without an array per argument
        var remove = RedisCommandBuilder(count: 4, capacity: raw.count + 96)
        remove.append("LREM")
        remove.append(self.processingKeys[shard.index])
        remove.append("-1")
        remove.append(raw)
        var marker = RedisCommandBuilder(count: 5, capacity: 128)
        marker.append("SET")
        marker.append(shard.sent(job.id))
        marker.append("1")
        marker.append("EX")
        marker.append(self.configuration.sentMarkerTTL)
        var transaction = [Self.multi, remove.command, marker.command]
        if job.kind == .message {  // an API message's record follows its fate (replies have none)
            let message = RedisArgument(shard.message(job.id))
            transaction.append(RedisCommand(
                "HSET", message, "status", "sent", "provider_id", RedisArgument(providerID ?? ""),
                "updated_at", RedisArgument(Self.now())))
            transaction.append(RedisCommand("EXPIRE", message, RedisArgument(self.configuration.recordTTL)))
        }
        for key in event?.keys ?? [] {
            transaction.append(RedisCommand("LPUSH", RedisArgument(key), RedisArgument(bytes: event?.entry ?? [])))
        }
        var audit = RedisCommandBuilder(count: 12, capacity: record.count + 160)
        audit.append("XADD")
        audit.append(shard.audit)
        audit.append("MAXLEN")
        audit.append("~")
        audit.append(self.auditMaxLength)
        audit.append("*")
        audit.append("event")
        audit.append("send")
        audit.append("decision")
        audit.append("sent")
        audit.append("data")
        audit.append(record)
        transaction.append(audit.command)
        transaction.append(Self.exec)
        return transaction
    }

    private static let multi = RedisCommand("MULTI")
    private static let exec = RedisCommand("EXEC")

    /// Commits the finishing transactions of sent jobs in one round trip (retried while Redis is away), in a task of
    /// its own: the drain deadline's cancellation must not leave a sent job to be sent again.
    private func commitSent(_ jobs: [SentJob]) async {
        await Task.detached { await self.commit(jobs) }.value
        for job in jobs { job.channel.count("sent") }
        self.stats.add("out", jobs.count)
    }

    private func commit(_ jobs: [SentJob]) async {
        let commands = jobs.count == 1 ? jobs[0].commands : Array(jobs.map(\.commands).joined())
        _ = await self.withRedisRetry {
            let replies = try await self.redis.pipeline(commands)
            var end = 0
            for job in jobs {  // each transaction's EXEC answers an array when it ran
                end += job.commands.count
                guard case .array = replies[end - 1] else { throw RedisError(.server, "sent transaction: \(replies[end - 1])") }
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
