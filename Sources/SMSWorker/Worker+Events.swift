import Foundation
import Metrics
import RedisClient
import SMSCore
import SMSSystem
import SMSStore

extension Worker {
    /// Delivery loop `index` of one endpoint: moves events of this loop's shards into this worker's processing list
    /// for the endpoint and delivers them, until stopping. Polls like the reply fetch loops (pause 5 ms doubling to
    /// `pollMaxMilliseconds` after a round that found nothing); nothing is fetched while the endpoint is disabled.
    func eventLoop(_ target: EventTarget, _ index: Int, slot: Int, _ events: EventDelivery) async {
        let shards = Self.shards(ofLoop: index, loops: events.concurrency, shards: self.keys.shards.count).map { self.keys.shards[$0] }
        let fetches = shards.map {
            RedisCommand(
                "LMOVE", RedisArgument($0.events(target.name)),
                RedisArgument($0.eventsProcessing(target.name, self.configuration.workerID)), "RIGHT", "LEFT")
        }
        await self.poll(fetches, paused: { self.disabledEndpoints.withLock { $0.contains(target.name) } }) { i, raws in
            for raw in raws {  // one at a time (a batch of 1)
                let held = Held(list: shards[i].eventsProcessing(target.name, self.configuration.workerID), raw: raw)
                self.inFlight.withLock { $0[slot] = [held] }
                await self.deliver(raw, target, shards[i], events)
                self.inFlight.withLock { $0[slot] = nil }
            }
        }
    }

    /// One attempt at one event, then its one finishing step: `LREM` when delivered, else the retry set or the dead
    /// list (`EventScripts.finish`). A worker killed in between leaves the event in its processing list, which the
    /// reaper returns to the queue: delivered again, never lost.
    private func deliver(_ raw: [UInt8], _ target: EventTarget, _ shard: RedisKeys, _ events: EventDelivery) async {
        let processing = RedisArgument(shard.eventsProcessing(target.name, self.configuration.workerID))
        guard let event = QueuedEvent(entry: raw) else {
            let record = Self.deadEvent(raw: raw, error: "unreadable event")
            await self.finishEvent(raw, processing, shard, target, outcome: "dead", next: record, due: 0, events)
            return
        }
        let started = ContinuousClock.now
        let result = await events.deliver(event, to: target)
        target.duration.record(duration: ContinuousClock.now - started)
        switch result {
        case .delivered:
            target.delivered.increment()
            _ = await self.withRedisRetry { try await self.redis.send("LREM", processing, -1, RedisArgument(bytes: raw)) }
        case .gone:
            self.logger.error("event endpoint answered 410 Gone: disabled until `smshook events retry`", metadata: ["endpoint": "\(target.name)"])
            self.disabledEndpoints.withLock { _ = $0.insert(target.name) }
            _ = await self.withRedisRetry {
                try await self.redis.send("SET", RedisArgument(self.keys.eventsDisabled(target.name)), RedisArgument("410 Gone at \(Self.now())"))
            }
            await self.finishEvent(raw, processing, shard, target, outcome: "dead", next: Self.deadEvent(raw: raw, error: "endpoint answered 410 Gone"), due: 0, events)
        case .failed(let reason):
            if Task.isCancelled { return }  // stopping past the deadline: given back to the queue as it is
            var retry = event
            retry.attempt = event.attempt + 1
            if let delay = events.delay(afterAttempt: retry.attempt) {
                let due = Int64((Date().timeIntervalSince1970 + delay) * 1000)
                self.logger.warning("event delivery failed; will retry", metadata: [
                    "endpoint": "\(target.name)", "event.id": "\(event.id)", "error": "\(reason)", "retry.in_s": "\(Int(delay))",
                ])
                await self.finishEvent(raw, processing, shard, target, outcome: "retry", next: retry.entry, due: due, events)
            } else {
                let error = "gave up after \(retry.attempt) attempts: \(reason)"
                self.logger.error("event delivery gave up; event is dead", metadata: ["endpoint": "\(target.name)", "event.id": "\(event.id)"])
                await self.finishEvent(raw, processing, shard, target, outcome: "dead", next: Self.deadEvent(raw: raw, error: error), due: 0, events)
            }
        }
    }

    private func finishEvent(
        _ raw: [UInt8], _ processing: RedisArgument, _ shard: RedisKeys, _ target: EventTarget, outcome: String, next: [UInt8],
        due: Int64, _ events: EventDelivery
    ) async {
        if outcome == "retry" { target.retried.increment() } else { target.dead.increment() }
        let keys = [processing, RedisArgument(shard.eventsRetry(target.name)), RedisArgument(shard.eventsDead(target.name))]
        let arguments = [
            RedisArgument(bytes: raw), RedisArgument(outcome), RedisArgument(bytes: next), RedisArgument(String(due)),
            RedisArgument(events.deadMax),
        ]
        _ = await self.withRedisRetry { try await self.redis.evaluate(EventScripts.finish, keys: keys, arguments: arguments) }
    }

    /// A dead event: the entry as it was queued (replayable as it is), why, when.
    static func deadEvent(raw: [UInt8], error: String) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.field("entry", String(decoding: raw, as: UTF8.self))
        w.field("error", error)
        w.field("failed_at", Self.now())
        w.endObject()
        return w.bytes
    }

    /// Housekeeping for events: due retries back to their queues, the disabled endpoints re-read and, with `gauges`,
    /// the depth and oldest-age gauges.
    func eventHousekeeping(_ events: EventDelivery, gauges: Bool) async {
        let now = RedisArgument(String(Int64(Date().timeIntervalSince1970 * 1000)))
        for target in events.targets {
            var depth = 0
            var oldest: Double = 0
            for shard in self.keys.shards {
                do {
                    _ = try await self.redis.evaluate(
                        WorkerScripts.schedule,
                        keys: [RedisArgument(shard.eventsRetry(target.name)), RedisArgument(shard.events(target.name))],
                        arguments: [now, 1000])
                    guard gauges else { continue }
                    let replies = try await self.redis.pipeline([
                        RedisCommand("LLEN", RedisArgument(shard.events(target.name))),
                        RedisCommand("ZCARD", RedisArgument(shard.eventsRetry(target.name))),
                        RedisCommand("LINDEX", RedisArgument(shard.events(target.name)), -1),
                    ])
                    depth += Int(replies[0].int ?? 0) + Int(replies[1].int ?? 0)
                    if let raw = replies[2].bytes, let event = QueuedEvent(entry: raw),
                        let at = (try? JSONParser.parse(event.body))?["timestamp"]?.stringValue, let age = Timestamp.age(of: at)
                    {
                        oldest = max(oldest, age)
                    }
                } catch {
                    self.logger.error("event housekeeping failed", metadata: ["redis.error": "\(error)"])
                }
            }
            if gauges {
                target.depth.record(depth)
                target.oldestAge.record(oldest)
            }
        }
        await self.refreshDisabled(events)
    }

    /// Re-reads which endpoints are disabled (410 Gone), once per housekeeping round and before the loops start.
    func refreshDisabled(_ events: EventDelivery) async {
        for target in events.targets {
            guard let reply = try? await self.redis.send("EXISTS", RedisArgument(self.keys.eventsDisabled(target.name))) else { continue }
            let isDisabled = reply == .integer(1)
            self.disabledEndpoints.withLock { set in
                if isDisabled { set.insert(target.name) } else { set.remove(target.name) }
            }
        }
    }

    /// The queues and entry of the `optout.changed` event for a number the provider refuses to message; nil without
    /// endpoints taking it.
    func optOutEvent(_ number: String, channel: String?, shard: RedisKeys) -> (keys: [String], entry: [UInt8])? {
        guard let targets = self.events?.targets(for: .optOutChanged), !targets.isEmpty else { return nil }
        let event = OptOutScript.event(
            id: JobID.makeEventID(), subscriber: number, optedOut: true, source: "provider",
            channel: self.configuration.optOutPerChannel ? channel : nil, at: Self.now())
        return (targets.map { shard.events($0.name) }, event.entry)
    }

    /// The event queues of `type` on `shard`, and the entry to push there for a finished job; nil without endpoints
    /// for that type.
    func outcomeEvent(_ job: ReplyJob, sent: Bool, providerID: String?, error: String?, shard: RedisKeys) -> (keys: [String], entry: [UInt8])? {
        guard let events = self.events else { return nil }
        let type: EventType = switch (job.kind, sent) {
        case (.message, true): .messageSent
        case (.message, false): .messageFailed
        case (.reply, true): .replySent
        case (.reply, false): .replyFailed
        }
        let targets = events.targets(for: type)
        guard !targets.isEmpty else { return nil }
        let now = Self.now()
        let body = QueuedEvent.body(type: type, timestamp: now) { w in
            w.beginObject()
            w.field("id", job.id)
            w.field("to", job.to)
            w.field("body", job.body)
            if job.kind == .reply {
                w.field("in_reply_to", job.inReplyTo)
                w.field("intent", job.intent.rawValue)
            }
            w.field("status", sent ? "sent" : "failed")
            w.field("provider_id", ifPresent: providerID)
            w.field("error", ifPresent: error)
            w.field("attempt", job.attempt + 1)
            Channel.write(job.channel, to: &w)
            w.field("at", now)
            w.endObject()
        }
        let event = QueuedEvent(id: JobID.makeEventID(), body: body)
        return (targets.map { shard.events($0.name) }, event.entry)
    }
}
