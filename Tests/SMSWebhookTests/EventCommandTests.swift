import Foundation
import RedisClient
import SMSCore
import SMSStore
import TestSupport
import Testing

/// `smshook optout` telling the application (`optout.changed`, only when the set changes) and `smshook events
/// list|retry|purge`, the real binary.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct EventCommandTests {
    @Test func operatorOptOutsAreEventsAndDeadEventsAreManaged() async throws {
        let prefix = TestRedis.uniquePrefix("evcli")
        let keys = RedisKeys(prefix: prefix)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("smshook-evcli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("smshook.yaml")
        try (try String(contentsOfFile: RepoFile.path("config/smshook.yaml"), encoding: .utf8) + """

            events:
              endpoints:
                - {name: app, url: "http://127.0.0.1:9/e", secrets: [APP_SECRET], types: [optout.changed]}
            """).write(to: config, atomically: true, encoding: .utf8)
        let env = ["REDIS_URL": TestRedis.url, "SMSHOOK_KEY_PREFIX": prefix, "SMSHOOK_CONFIG": config.path]
        let check = RedisClient(configuration: try RedisConfiguration(url: TestRedis.url), logger: .init(label: "test"))
        func events() async throws -> [QueuedEvent] {
            (try await check.send("LRANGE", RedisArgument(keys.events("app")), 0, -1).array ?? []).compactMap(\.bytes)
                .compactMap(QueuedEvent.init(entry:)).reversed()
        }
        #expect(try OperatorCommandTests.smshook(["optout", "add", "+1 555 010 0031"], env: env).0 == 0)
        #expect(try OperatorCommandTests.smshook(["optout", "add", "+1 555 010 0031"], env: env).0 == 0)  // no change
        #expect(try OperatorCommandTests.smshook(["optout", "remove", "+1 555 010 0031"], env: env).0 == 0)
        let queued = try await events()
        #expect(queued.map(\.type) == ["optout.changed", "optout.changed"])
        let data = try queued.map { try JSONParser.parse($0.body)["data"] }
        #expect(data.map { $0?["opted_out"] } == [.bool(true), .bool(false)])
        #expect(data.allSatisfy { $0?["source"]?.stringValue == "operator" && $0?["number"]?.stringValue == "+15550100031" })

        // a dead event: listed, replayed (attempts reset, the endpoint enabled again), purged
        let dead = QueuedEvent(id: "evt_dead_1", attempt: 7, body: queued[0].body)
        let record = #"{"entry":\#(JSONValue.string(String(decoding: dead.entry, as: UTF8.self)).json),"error":"endpoint answered 500","failed_at":"2026-01-01T00:00:00Z"}"#
        try await check.send("LPUSH", RedisArgument(keys.eventsDead("app")), RedisArgument(record))
        try await check.send("SET", RedisArgument(KeySpace(prefix: prefix).eventsDisabled("app")), "410 Gone")
        let (listed, text) = try OperatorCommandTests.smshook(["events", "list"], env: env)
        #expect(listed == 0)
        #expect(text.contains("app: queued=2 retrying=0 dead=1 DISABLED (410 Gone)"), "\(text)")
        #expect(text.contains("evt_dead_1 optout.changed error=endpoint answered 500"), "\(text)")
        let (retried, said) = try OperatorCommandTests.smshook(["events", "retry", "--endpoint", "app", "evt_dead_1"], env: env)
        #expect(retried == 0 && said.contains("requeued 1 event"))
        // at the fetching end of the queue: delivered next
        #expect(try await events().first == QueuedEvent(id: "evt_dead_1", attempt: 0, body: queued[0].body))
        #expect(try await check.send("EXISTS", RedisArgument(KeySpace(prefix: prefix).eventsDisabled("app"))) == .integer(0))
        #expect(try OperatorCommandTests.smshook(["events", "retry", "--endpoint", "app", "evt_none"], env: env).0 != 0)
        try await check.send("LPUSH", RedisArgument(keys.eventsDead("app")), RedisArgument(record))
        #expect(try OperatorCommandTests.smshook(["events", "purge", "--endpoint", "app"], env: env).1 == "purged 1 event\n")
        #expect(try await check.send("LLEN", RedisArgument(keys.eventsDead("app"))) == .integer(0))
        await check.shutdown()
    }
}
