import Foundation
import Glibc
import Hummingbird
import HummingbirdTesting
import NIOCore
import RedisClient
import SMSCore
import SMSStore
import TestSupport
import Testing

/// The real `smshook serve` binary, every route signed, fed what an attacker would send: it answers and keeps serving.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"), .serialized)
struct BinaryServeTests {
    static let legacySecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    /// One serve process with every route authenticated; its standard error goes to `log`.
    final class Serve {
        let process = Process()
        let port: Int
        let adminPort: Int
        let log: URL
        let prefix = TestRedis.uniquePrefix("bin")

        init(extra: [String: String] = [:]) async throws {
            self.port = try freeLoopbackPort()
            self.adminPort = try freeLoopbackPort()
            self.log = FileManager.default.temporaryDirectory.appendingPathComponent("smshook-serve-\(UUID().uuidString).log")
            FileManager.default.createFile(atPath: self.log.path, contents: nil)
            self.process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["SMSHOOK_BIN"] ?? RepoFile.path(".build/debug/smshook"))
            self.process.arguments = ["serve"]
            self.process.environment = [
                "REDIS_URL": TestRedis.url, "SMSHOOK_KEY_PREFIX": self.prefix,
                "SMSHOOK_PORT": String(self.port), "SMSHOOK_ADMIN_PORT": String(self.adminPort),
                "SMSHOOK_CONFIG": RepoFile.path("config/smshook.yaml"),
                "SMSHOOK_LEGACY_SECRETS": BinaryServeTests.legacySecret, "SMSHOOK_SMSMOBILEAPI_SECRETS": "v2-secret",
                "SMSHOOK_ASG_SECRETS": "asg-secret", "SMSHOOK_TWILIO_AUTH_TOKENS": "twilio-token",
                "SMSHOOK_PUBLIC_BASE_URL": "https://hooks.example.com", "LOG_LEVEL": "debug",
            ].merging(extra) { $1 }
            self.process.standardOutput = FileHandle.nullDevice
            self.process.standardError = try FileHandle(forWritingTo: self.log)
            try self.process.run()
            let started = ContinuousClock.now
            while ContinuousClock.now - started < .seconds(20) {
                if let r = try? await self.request(.get, "/healthz"), r.status == .ok { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            self.stop()
            throw TestFailure("serve did not start: \((try? String(contentsOf: self.log, encoding: .utf8)) ?? "")")
        }

        /// One request on a new connection (a dead process fails it).
        func request(
            _ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields = [:], body: String = "", admin: Bool = false
        ) async throws -> TestClient.Response {
            try await TestClient.withClient(host: "127.0.0.1", port: admin ? self.adminPort : self.port) { client in
                try await client.execute(.init(
                    uri, method: method, authority: "127.0.0.1", headers: headers, body: method == .post ? ByteBuffer(string: body) : nil))
            }
        }

        func stop() {
            if self.process.isRunning { kill(self.process.processIdentifier, SIGTERM) }
            self.process.waitUntilExit()
            try? FileManager.default.removeItem(at: self.log)
        }
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static let hostileTimestamps = [
        "-9223372036854775808", "9223372036854775807", "99999999999999999999", "1e10", "", " 1", "0x10",
    ]
    static let hostileSignatures = [
        "v1,AAAA", "v1,!!!!", String(repeating: "A", count: 4000), Array(repeating: "v1,AAAA", count: 50).joined(separator: " "),
        "", "v1=zz",
    ]

    @Test func hostileHeadersOnEverySignedRouteGet401AndTheProcessKeepsServing() async throws {
        let serve = try await Serve()
        defer { serve.stop() }
        let now = String(Int(Date().timeIntervalSince1970))
        let json = #"{"message":"yes","number":"+15550100000","guid":"hostile-1"}"#
        var checked = 0
        for ts in Self.hostileTimestamps {
            let cases: [(String, HTTPFields)] = [
                ("/api/webhook/sms-received", [.contentType: "application/json", .init("webhook-id")!: "m1", .init("webhook-timestamp")!: ts, .init("webhook-signature")!: "v1,AAAA"]),
                ("/webhooks/smsmobileapi", [.contentType: "application/json", .init("X-SMSMobileAPI-Timestamp")!: ts, .init("X-SMSMobileAPI-Signature")!: "v1=00"]),
                ("/webhooks/android-sms-gateway", [.contentType: "application/json", .init("X-Timestamp")!: ts, .init("X-Signature")!: "00"]),
            ]
            for (uri, headers) in cases {
                let r = try await serve.request(.post, uri, headers: headers, body: json)
                #expect(r.status == .unauthorized, "\(uri) timestamp '\(ts)': \(r.status)")
                checked += 1
            }
        }
        for sig in Self.hostileSignatures {
            let cases: [(String, HTTPFields, String)] = [
                ("/api/webhook/sms-received", [.contentType: "application/json", .init("webhook-id")!: "m1", .init("webhook-timestamp")!: now, .init("webhook-signature")!: sig], json),
                ("/webhooks/smsmobileapi", [.contentType: "application/json", .init("X-SMSMobileAPI-Timestamp")!: now, .init("X-SMSMobileAPI-Signature")!: sig], json),
                ("/webhooks/android-sms-gateway", [.contentType: "application/json", .init("X-Timestamp")!: now, .init("X-Signature")!: sig], json),
                ("/webhooks/twilio", [.contentType: "application/x-www-form-urlencoded", .init("X-Twilio-Signature")!: sig], "MessageSid=SM1&From=%2B15550100000&Body=yes"),
            ]
            for (uri, headers, body) in cases {
                let r = try await serve.request(.post, uri, headers: headers, body: body)
                #expect(r.status == .unauthorized, "\(uri) signature of \(sig.utf8.count) bytes: \(r.status)")
                checked += 1
            }
        }
        #expect(checked == 7 * 3 + 6 * 4)
        #expect(serve.process.isRunning)
        // and a correctly signed call is still accepted
        let signature = Signatures.standardWebhooks(secret: Self.legacySecret, id: "ok-1", timestamp: Int(now)!, body: Array(json.utf8))
        let ok = try await serve.request(
            .post, "/api/webhook/sms-received",
            headers: [.contentType: "application/json", .init("webhook-id")!: "ok-1", .init("webhook-timestamp")!: now, .init("webhook-signature")!: signature],
            body: json)
        #expect(ok.status == .ok)
    }

    @Test func metricsAndReadinessAreOnlyOnTheAdminListener() async throws {
        let serve = try await Serve()
        defer { serve.stop() }
        for path in ["/metrics", "/readyz"] {
            #expect(try await serve.request(.get, path).status == .notFound, "\(path) on the public port")
        }
        #expect(try await serve.request(.get, "/healthz").status == .ok)
        let metrics = try await serve.request(.get, "/metrics", admin: true)
        #expect(metrics.status == .ok)
        #expect(String(buffer: metrics.body ?? ByteBuffer()).contains("smshook_webhook_requests_total"))
        #expect(try await serve.request(.get, "/readyz", admin: true).status == .ok)
    }

    @Test func aMessageCannotForgeALogLine() async throws {
        let serve = try await Serve(extra: ["SMSHOOK_LEGACY_AUTH": "none"])
        defer { serve.stop() }
        let forged = "2026-01-01T00:00:00Z error forged"
        let body = JSONValue.object([
            ("message", .string("yes\n\(forged)")), ("number", .string("+15550100001")), ("guid", .string("forge-\(UUID().uuidString)")),
        ]).json
        let r = try await serve.request(.post, "/api/webhook/sms-received", headers: [.contentType: "application/json"], body: body)
        #expect(r.status == .ok)
        try await Task.sleep(for: .milliseconds(200))
        let lines = try String(contentsOf: serve.log, encoding: .utf8).split(separator: "\n")
        #expect(lines.contains { $0.contains(#"yes\n2026-01-01T00:00:00Z error forged"#) }, "the message body is logged, escaped, at debug")
        #expect(!lines.contains { $0.hasPrefix(forged) }, "a line starts with the forged text")
    }

    @Test func sighupReloadsTheConfigAndKeepsTheOldOneWhenTheNewIsBroken() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("smshook-\(UUID().uuidString).yaml")
        let original = try String(contentsOfFile: RepoFile.path("config/smshook.yaml"), encoding: .utf8)
        try original.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let serve = try await Serve(extra: ["SMSHOOK_CONFIG": file.path, "SMSHOOK_LEGACY_AUTH": "none"])
        defer { serve.stop() }
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestRedis.url), logger: .init(label: "test"))
        let keys = RedisKeys(prefix: serve.prefix)
        func replyTo(_ text: String, _ n: Int) async throws -> String? {
            let body = JSONValue.object([("message", .string(text)), ("number", .string("+1555030000\(n)")), ("guid", .string("hup-\(n)"))]).json
            #expect(try await serve.request(.post, "/api/webhook/sms-received", headers: [.contentType: "application/json"], body: body).status == .ok)
            let raw = try await redis.send("LINDEX", RedisArgument(keys.replies), "0").bytes ?? []
            return try ReplyJob(json: JSONParser.parse(raw)).body
        }
        func configHash() async throws -> String? {
            let text = String(buffer: try await serve.request(.get, "/metrics", admin: true).body ?? ByteBuffer())
            // smshook_config_info{sha256="..."} 1 for the file in force, 0 for one replaced
            return text.split(separator: "\n").first {
                $0.hasPrefix("smshook_config_info{") && Double($0.split(separator: " ").last ?? "") == 1
            }.map(String.init)
        }
        func hangUpAndWait(for line: String) async throws {
            kill(serve.process.processIdentifier, SIGHUP)
            let started = ContinuousClock.now
            while ContinuousClock.now - started < .seconds(10) {
                let log = (try? String(contentsOf: serve.log, encoding: .utf8)) ?? ""
                if log.components(separatedBy: line).count > 1 { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("no '\(line)' in the log")
        }
        #expect(try await replyTo("help", 1) == "Reply YES or NO. Reply STOP to unsubscribe.")
        let before = try await configHash()
        func replies(_ number: String, _ guids: [String]) async throws -> [String?] {
            var out: [String?] = []
            for guid in guids {
                let body = JSONValue.object([("message", .string("yes")), ("number", .string(number)), ("guid", .string(guid))]).json
                let r = try await serve.request(.post, "/api/webhook/sms-received", headers: [.contentType: "application/json"], body: body)
                let json = try JSONParser.parse(Array((r.body ?? ByteBuffer()).readableBytesView))
                guard case .array(let results)? = json["results"] else { out.append(nil); continue }
                out.append(results.first?["reply"]?.stringValue)
            }
            return out
        }
        #expect(try await replies("+15550300010", ["hup-a1", "hup-a2"]) == ["queued", "queued"])
        // the loop guard's limit is a constant of the ingest script's text: the reload gives a new script
        try original.replacingOccurrences(of: "help: \"Reply YES or NO. Reply STOP to unsubscribe.\"", with: "help: \"Reloaded help text.\"")
            .replacingOccurrences(of: "max_replies: 3", with: "max_replies: 1")
            .write(to: file, atomically: true, encoding: .utf8)
        try await hangUpAndWait(for: "config reloaded")
        #expect(try await replyTo("help", 2) == "Reloaded help text.")
        #expect(try await replies("+15550300011", ["hup-b1", "hup-b2"]) == ["queued", "suppressed_rate"])
        #expect(try await serve.request(.get, "/readyz", admin: true).status == .ok)
        let after = try await configHash()
        #expect(after != nil && after != before, "the config hash metric follows the file")
        try "replies: [this is not: the config".write(to: file, atomically: true, encoding: .utf8)
        try await hangUpAndWait(for: "config reload refused")
        #expect(try await replyTo("help", 3) == "Reloaded help text.")
        #expect(try await configHash() == after)
        #expect(serve.process.isRunning)
        await redis.shutdown()
    }
}
