import Foundation
import RedisClient
import SMSCore
import SMSStore
import SMSWorker
import TestSupport
import Testing

/// Event delivery by the worker to a local endpoint that checks the exact request: Standard Webhooks headers and
/// signatures, retries with one `webhook-id`, 410 Gone, the dead list, events of send outcomes.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct EventDeliveryTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    static func delivery(_ base: String, schedule: [Double] = [0.05, 0.05, 0.05, 0.05], types: Set<EventType> = Set(EventType.allCases)) -> EventDelivery {
        EventDelivery(
            targets: [EventTarget(name: "app", url: base + "/events", secrets: [Self.secret, "whsec_" + Data("another-key-0123".utf8).base64EncodedString()], types: types)],
            schedule: schedule, concurrency: 2, timeout: .seconds(5))
    }

    static func event(_ n: Int) -> QueuedEvent {
        QueuedEvent(id: "evt_test_\(n)", body: QueuedEvent.body(type: .messageReceived, timestamp: "2026-01-01T00:00:00Z") { w in
            w.beginObject(); w.field("guid", "g-\(n)"); w.field("intent", "affirmative"); w.endObject()
        })
    }

    /// Checks one recorded delivery the way a receiver following Standard Webhooks would; returns its webhook-id.
    static func verify(_ request: FakeProvider.Recorded) -> String? {
        guard let id = request.headers["webhook-id"], let timestamp = request.headers["webhook-timestamp"].flatMap(Int.init),
            let signatures = request.headers["webhook-signature"]?.split(separator: " ").map(String.init),
            request.headers["content-type"] == "application/json"
        else { return nil }
        let expected = Signatures.standardWebhooks(secret: Self.secret, id: id, timestamp: timestamp, body: Array(request.body.utf8))
        return signatures.count == 2 && signatures.contains(expected) ? id : nil
    }

    func counts(_ h: WorkerHarness) async throws -> DeadEvents.Counts {
        try await DeadEvents(redis: h.check, keys: h.space, endpoint: "app").counts()
    }

    @Test func failedAttemptsAreRetriedWithTheSameIDUntilDelivered() async throws {
        let fake = FakeProvider { _, index in .init(status: index < 3 ? 500 : 200) }
        try await fake.run { base in
            let h = try WorkerHarness()
            let event = Self.event(1)
            try await h.check.send("LPUSH", RedisArgument(h.keys.events("app")), RedisArgument(bytes: event.entry))
            try await h.runWorker(events: Self.delivery(base)) { fake.recorded.count >= 4 }
            try await Task.sleep(for: .milliseconds(100))
            let requests = fake.recorded
            #expect(requests.count == 4)
            #expect(requests.map(Self.verify) == Array(repeating: "evt_test_1", count: 4))
            #expect(Set(requests.map(\.body)) == [String(decoding: event.body, as: UTF8.self)])
            #expect(try await self.counts(h) == DeadEvents.Counts())
            #expect(try await h.length(h.keys.eventsProcessing("app", h.configuration.workerID)) == 0)
        }
    }

    @Test func anExhaustedScheduleEndsInTheDeadListAndCanBeReplayed() async throws {
        let fake = FakeProvider { _, index in .init(status: index < 3 ? 503 : 204) }
        try await fake.run { base in
            let h = try WorkerHarness()
            try await h.check.send("LPUSH", RedisArgument(h.keys.events("app")), RedisArgument(bytes: Self.event(2).entry))
            try await h.runWorker(events: Self.delivery(base, schedule: [0.05, 0.05])) { try await self.counts(h).dead == 1 }
            #expect(fake.recorded.count == 3)
            let dead = try await DeadEvents(redis: h.check, keys: h.space, endpoint: "app").list(count: 10)
            let record = try JSONParser.parse(try #require(dead.first))
            #expect(record["error"]?.stringValue == "gave up after 3 attempts: endpoint answered 503")
            #expect(try await DeadEvents(redis: h.check, keys: h.space, endpoint: "app").replay(id: "evt_test_2") == 1)
            try await h.runWorker(events: Self.delivery(base)) { fake.recorded.count >= 4 }
            #expect(fake.recorded.count == 4 && Self.verify(fake.recorded[3]) == "evt_test_2")
            #expect(try await self.counts(h) == DeadEvents.Counts())
        }
    }

    @Test func goneDisablesTheEndpointUntilRetried() async throws {
        let fake = FakeProvider { _, index in .init(status: index == 0 ? 410 : 200) }
        try await fake.run { base in
            let h = try WorkerHarness()
            try await h.check.send("LPUSH", RedisArgument(h.keys.events("app")), RedisArgument(bytes: Self.event(3).entry))
            try await h.runWorker(events: Self.delivery(base)) { try await self.counts(h).dead == 1 }
            #expect(try await self.counts(h).disabled?.hasPrefix("410 Gone") == true)
            // disabled: a new event waits in the queue, not delivered
            try await h.check.send("LPUSH", RedisArgument(h.keys.events("app")), RedisArgument(bytes: Self.event(4).entry))
            try await h.runWorker(events: Self.delivery(base), timeout: .milliseconds(600)) { false }
            #expect(fake.recorded.count == 1)
            #expect(try await self.counts(h).queued == 1)
            // `smshook events retry --all`: both delivered
            #expect(try await DeadEvents(redis: h.check, keys: h.space, endpoint: "app").replay(id: nil) == 1)
            try await h.runWorker(events: Self.delivery(base)) { fake.recorded.count >= 3 }
            #expect(Set(fake.recorded.dropFirst().compactMap(Self.verify)) == ["evt_test_3", "evt_test_4"])
            #expect(try await self.counts(h) == DeadEvents.Counts())
        }
    }

    @Test func aProviderOptOutIsAnEvent() async throws {
        let fake = FakeProvider { request, _ in
            request.path.hasSuffix("Messages.json")
                ? .init(status: 400, body: #"{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}"#)
                : .init(status: 200)
        }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .twilio, baseURL: base)
            try await h.enqueue([h.job(5)])
            try await h.runWorker(events: Self.delivery(base, types: [.optOutChanged, .replyFailed])) {
                fake.recorded.filter { $0.path == "/events" }.count >= 2
            }
            let events = fake.recorded.filter { $0.path == "/events" }.compactMap { try? JSONParser.parse(Array($0.body.utf8)) }
            #expect(Set(events.compactMap { $0["type"]?.stringValue }) == ["optout.changed", "reply.failed"])
            let change = events.first { $0["type"]?.stringValue == "optout.changed" }
            #expect(change?["data"]?["number"]?.stringValue == h.job(5).to)
            #expect(change?["data"]?["source"]?.stringValue == "provider" && change?["data"]?["opted_out"] == .bool(true))
        }
    }

    @Test func sendOutcomesAreEvents() async throws {
        let fake = FakeProvider { request, _ in .init(status: request.path == "/hook" && request.body.contains("unlucky") ? 400 : 200) }
        try await fake.run { base in
            var h = try WorkerHarness(provider: .http, baseURL: base)
            h.configuration.backoff = Backoff(baseSeconds: 0.01, capSeconds: 0.01, maxAttempts: 1)
            var message = h.job(1)
            message.kind = .message
            message.id = "msg_1"
            message.inReplyTo = ""
            var failing = h.job(2)
            failing.body = "unlucky"
            try await h.check.send("HSET", RedisArgument(h.shard(message).message("msg_1")), "status", "queued")
            try await h.enqueue([message, failing])
            let delivery = Self.delivery(base, types: [.messageSent, .replyFailed])
            try await h.runWorker(events: delivery) { fake.recorded.filter { $0.path == "/events" }.count >= 2 }
            let events = fake.recorded.filter { $0.path == "/events" }.map { try? JSONParser.parse(Array($0.body.utf8)) }
            let byType = Dictionary(uniqueKeysWithValues: events.compactMap { e in e?["type"]?.stringValue.map { ($0, e!) } })
            #expect(Set(byType.keys) == ["message.sent", "reply.failed"])
            #expect(byType["message.sent"]?["data"]?["id"]?.stringValue == "msg_1")
            #expect(byType["reply.failed"]?["data"]?["in_reply_to"]?.stringValue == "guid-2")
            #expect(byType["reply.failed"]?["data"]?["error"]?.stringValue?.isEmpty == false)
            #expect(fake.recorded.filter { $0.path == "/events" }.allSatisfy { Self.verify($0) != nil })
            let status = try await h.check.send("HGET", RedisArgument(h.shard(message).message("msg_1")), "status")
            #expect(status.string == "sent")
        }
    }
}
