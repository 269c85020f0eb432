import Foundation
import HummingbirdTesting
import Logging
import NIOCore
import RedisClient
import SMSCore
import SMSSystem
import SMSWebhook
import SMSWorker
import TestSupport
import Testing

/// webhook → Redis → worker → provider, in one test.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct WholePathTests {
    @Test func optedOutNumberGetsNoReplyUntilStart() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204) }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base)
            var serve = ServeConfiguration(
                redis: h.configuration.redis, instanceID: "e2e",
                replies: try ReplyConfig.load(path: RepoFile.path("config/smshook.yaml")).0)
            serve.port = 0
            serve.auth = .none
            serve.keyPrefix = h.configuration.keyPrefix
            var logger = Logger(label: "e2e")
            logger.logLevel = .critical
            let number = "+15550199999"
            let serveConfiguration = serve
            let quiet = logger
            @Sendable func post(_ texts: [String], from first: Int) async throws {
                let app = WebhookApplication.make(
                    configuration: serveConfiguration, redis: RedisClient(configuration: serveConfiguration.redis, logger: quiet),
                    logger: quiet)
                try await app.test(.live) { client in
                    for (i, text) in texts.enumerated() {
                        let body = JSONValue.object([("message", .string(text)), ("number", .string(number)), ("guid", .string("e2e-\(first + i)"))]).json
                        try await client.execute(uri: "/api/webhook/sms-received", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)) {
                            #expect($0.status == .ok)
                        }
                    }
                }
            }
            func sentReplies() -> [String] {
                fake.recorded.compactMap { try? JSONParser.parse(Array($0.body.utf8))["in_reply_to"]?.stringValue }
            }
            // "yes" queued, then STOP before any worker ran: the yes must not be sent, the confirmation must
            try await post(["yes", "STOP", "no"], from: 0)
            try await h.runWorker { (try await h.auditDecisions()).count == 2 }
            #expect(sentReplies() == ["e2e-1"])
            #expect(Set(try await h.auditDecisions()) == ["skipped_optout", "sent"])
            // START restores replies
            try await post(["START", "yes"], from: 3)
            try await h.runWorker { (try await h.auditDecisions()).count == 4 }
            #expect(Set(sentReplies()) == ["e2e-1", "e2e-3", "e2e-4"])
            #expect(fake.recorded.count == 3)
            let inbound = try await h.auditDecisions(event: "inbound")
            #expect(inbound == ["queued", "queued", "suppressed_optout", "queued", "queued"])
            await h.check.shutdown()
        }
    }
}
