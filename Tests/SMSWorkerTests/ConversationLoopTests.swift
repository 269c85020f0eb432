import Foundation
import Glibc
import Hummingbird
import HummingbirdTesting
import NIOCore
import RedisClient
import SMSCore
import Synchronization
import TestSupport
import Testing

/// The whole loop on real processes: `smshook serve` and `smshook worker` binaries, a fake SMS provider and a fake
/// application endpoint. The application sends a question through the API, the worker sends it, the answer arrives
/// as a webhook, and the application receives `message.received` matched to its question, signed, exactly once
/// through an endpoint that fails three times; a worker SIGKILLed mid-delivery leads to redelivery, never loss.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"), .serialized)
struct ConversationLoopTests {
    static let token = "tok_loop_0123456789abcdef"
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    final class Processes: @unchecked Sendable {
        var all: [Process] = []
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("smshook-loop-\(UUID().uuidString)")

        func start(_ arguments: [String], _ environment: [String: String], log: String) throws -> Process {
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: BinaryWorkerTests.binary)
            process.arguments = arguments
            process.environment = environment
            let path = self.directory.appendingPathComponent(log).path
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try process.run()
            self.all.append(process)
            return process
        }

        func stopAll() {
            for p in self.all where p.isRunning { kill(p.processIdentifier, SIGKILL) }
            for p in self.all { p.waitUntilExit() }
            try? FileManager.default.removeItem(at: self.directory)
        }
    }

    static func post(port: Int, _ uri: String, _ body: String, headers: HTTPFields) async throws -> (HTTPResponse.Status, JSONValue) {
        try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
            let response = try await client.execute(.init(uri, method: .post, authority: "127.0.0.1", headers: headers, body: ByteBuffer(string: body)))
            return (response.status, (try? JSONParser.parse(response.body?.readableBytesView ?? ByteBuffer().readableBytesView)) ?? .null)
        }
    }

    static func waitFor(_ what: String, timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async throws {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < timeout {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }

    @Test func questionAnswerAndSignedEventExactlyOnceThroughFailuresAndAKill() async throws {
        // per webhook-id, the answers given so far; message.received fails 3 times, then succeeds; the guid
        // "slow" is answered after 3 s on its first attempt (the worker is killed meanwhile)
        let answered = Mutex<[String: [Int]]>([:])
        let fake = FakeProvider { request, _ in
            guard request.path == "/events", let id = request.headers["webhook-id"] else { return .init(status: 200) }
            let type = (try? JSONParser.parse(Array(request.body.utf8)))?["type"]?.stringValue
            let slow = request.body.contains("\"guid\":\"loop-slow\"")
            return answered.withLock { all in
                let earlier = all[id, default: []].count
                let status = type == "message.received" && !slow && earlier < 3 ? 500 : 200
                all[id, default: []].append(status)
                return .init(status: status, delay: slow && earlier == 0 ? .seconds(3) : .zero)
            }
        }
        let procs = Processes()
        defer { procs.stopAll() }
        try await fake.run { base in
            let config = procs.directory.appendingPathComponent("smshook.yaml")
            try FileManager.default.createDirectory(at: procs.directory, withIntermediateDirectories: true)
            let repo = try String(contentsOfFile: RepoFile.path("config/smshook.yaml"), encoding: .utf8)
            try (repo + """

                events:
                  endpoints:
                    - {name: app, url: "\(base)/events", secrets: [APP_EVENTS_SECRET], types: [message.received]}
                  retry_schedule: [0.2, 0.2, 0.2, 0.2, 0.2]
                """).write(to: config, atomically: true, encoding: .utf8)
            let prefix = TestRedis.uniquePrefix("loop")
            let port = try freeLoopbackPort()
            let common = [
                "REDIS_URL": TestRedis.url, "SMSHOOK_KEY_PREFIX": prefix, "SMSHOOK_CONFIG": config.path, "LOG_LEVEL": "info",
            ]
            _ = try procs.start(["serve"], common.merging([
                "SMSHOOK_PORT": String(port), "SMSHOOK_ADMIN_PORT": "off", "SMSHOOK_AUTH": "none", "SMSHOOK_API_TOKENS": Self.token,
            ]) { $1 }, log: "serve.log")
            let workerEnvironment = common.merging([
                "SMSHOOK_PROVIDER": "http", "HTTP_PROVIDER_URL": base + "/hook", "HTTP_PROVIDER_SECRET": "s",
                "SMSHOOK_ALLOW_INSECURE_PROVIDER": "1", "APP_EVENTS_SECRET": Self.secret, "WORKER_HEARTBEAT_TTL": "1",
                "WORKER_HEARTBEAT_INTERVAL": "0.25", "WORKER_REAP_INTERVAL": "0.25", "WORKER_POLL_MAX_MS": "50",
            ]) { $1 }
            var worker = try procs.start(["worker"], workerEnvironment, log: "worker-1.log")
            try await Self.waitFor("serve to listen") { canConnect(port: port) }

            // 1. the application asks
            let api: HTTPFields = [.authorization: "Bearer \(Self.token)", .contentType: "application/json"]
            let (status, sent) = try await Self.post(
                port: port, "/api/v1/messages", #"{"to":"+15550100777","body":"Can you take the 9am shift? Reply YES or NO","metadata":{"shift":"9am"}}"#,
                headers: api)
            #expect(status == .accepted)
            let id = try #require(sent["id"]?.stringValue)
            try await Self.waitFor("the question at the SMS provider") { fake.recorded.contains { $0.path == "/hook" && $0.body.contains(id) } }

            // 2. the subscriber answers; 3. the application hears it, matched and classified, after 3 failures
            let json: HTTPFields = [.contentType: "application/json"]
            #expect(try await Self.post(port: port, "/api/webhook/sms-received", #"{"message":"Yes!","number":"+15550100777","guid":"loop-yes"}"#, headers: json).0 == .ok)
            let received = { fake.recorded.filter { $0.path == "/events" && $0.body.contains("\"guid\":\"loop-yes\"") } }
            try await Self.waitFor("message.received delivered") { answered.withLock { all in all.values.contains([500, 500, 500, 200]) } }
            let attempts = received()
            #expect(attempts.count == 4)
            #expect(Set(attempts.compactMap(EventDeliveryTests.verifyOne)).count == 1)
            let eventID = try #require(attempts.first?.headers["webhook-id"])
            #expect(answered.withLock { $0[eventID] } == [500, 500, 500, 200])
            let event = try JSONParser.parse(Array(try #require(attempts.last).body.utf8))
            #expect(event["type"]?.stringValue == "message.received")
            #expect(event["data"]?["intent"]?.stringValue == "affirmative")
            #expect(event["data"]?["in_reply_to"]?["id"]?.stringValue == id)
            #expect(event["data"]?["in_reply_to"]?["metadata"]?["shift"]?.stringValue == "9am")

            // 4. the worker is SIGKILLed while it delivers: the next worker delivers the event again
            #expect(try await Self.post(port: port, "/api/webhook/sms-received", #"{"message":"no","number":"+15550100778","guid":"loop-slow"}"#, headers: json).0 == .ok)
            let slow = { fake.recorded.filter { $0.path == "/events" && $0.body.contains("\"guid\":\"loop-slow\"") } }
            try await Self.waitFor("the slow delivery to start") { !slow().isEmpty }
            kill(worker.processIdentifier, SIGKILL)
            worker.waitUntilExit()
            worker = try procs.start(["worker"], workerEnvironment, log: "worker-2.log")
            try await Self.waitFor("redelivery after the kill") { slow().count >= 2 }
            #expect(Set(slow().map { $0.headers["webhook-id"] }).count == 1)
            print("loop: message.received delivered after 3 failures with one webhook-id; after a SIGKILL mid-delivery, delivered \(slow().count) times (at least once)")
            kill(worker.processIdentifier, SIGTERM)
            worker.waitUntilExit()
        }
    }
}

extension EventDeliveryTests {
    /// The webhook-id of a delivery whose signature verifies under the test secret (Standard Webhooks scheme).
    static func verifyOne(_ request: FakeProvider.Recorded) -> String? {
        guard let id = request.headers["webhook-id"], let timestamp = request.headers["webhook-timestamp"].flatMap(Int.init),
            let signature = request.headers["webhook-signature"]
        else { return nil }
        let expected = Signatures.standardWebhooks(secret: ConversationLoopTests.secret, id: id, timestamp: timestamp, body: Array(request.body.utf8))
        return signature.split(separator: " ").contains { $0 == expected } ? id : nil
    }
}
