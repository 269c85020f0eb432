import Foundation
import Hummingbird
import HummingbirdTesting
import CoreMetrics
import MetricsTestKit
import NIOCore
import RedisClient
import SMSCore
import SMSWebhook
import TestSupport
import Testing

/// Provider formats and their signatures, through the real HTTP server.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct ProviderWebhookTests {
    static let v2Secret = "v2-secret"
    static let asgKey = "asg-key"
    static let twilioToken = "twilio-token"
    static let legacySecret = "whsec_" + Data("legacy-secret".utf8).base64EncodedString()

    let service: TestService

    init() throws {
        self.service = try TestService(prefix: TestRedis.uniquePrefix("providers")) { c in
            c.auth = RouteAuth()
            c.auth.smsMobileAPI.secrets = ["rotated-out", Self.v2Secret]
            c.auth.androidSMSGateway.secrets = [Self.asgKey]
            c.auth.twilio.secrets = [Self.twilioToken]
            c.auth.twilio.publicBaseURL = "https://hooks.example.com"
            c.auth.legacy.secrets = [Self.legacySecret]
        }
    }

    static var now: String { String(Int(Date().timeIntervalSince1970)) }

    static func v2Body(guid: String, type: String = "sms.received") -> String {
        #"{"id":"evt_1","type":"\#(type)","api_version":"2","created_at":"2025-01-20T10:15:00Z","occurred_at":"2025-01-20T10:14:50Z","data":{"guid":"\#(guid)","from":"+15550300001","message":"Yes","received_at":"2025-01-20T10:14:50Z","alias":"office","device_id":"dev-1"}}"#
    }

    static func v2Headers(_ body: String, timestamp: String = now, secret: String = v2Secret) -> HTTPFields {
        [.contentType: "application/json", .init("X-SMSMobileAPI-Timestamp")!: timestamp,
         .init("X-SMSMobileAPI-Signature")!: "v1=" + Signatures.smsMobileAPI(secret: secret, timestamp: timestamp, body: Array(body.utf8))]
    }

    func post(_ client: some TestClientProtocol, _ uri: String, _ body: String, _ headers: HTTPFields) async throws -> (HTTPResponse.Status, String) {
        try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) {
            ($0.status, String(buffer: $0.body))
        }
    }

    @Test func smsMobileAPIV2SignedRightIsAcceptedTamperedIsRefused() async throws {
        let metrics = TestMetrics()
        try await withMetricsFactory(metrics) {
            try await self.service.app.test(.live) { client in
                let body = Self.v2Body(guid: "v2-1")
                let (ok, text) = try await post(client, "/webhooks/smsmobileapi", body, Self.v2Headers(body))
                #expect(ok == .accepted)
                #expect(text.contains(#""outcome":"accepted""#))

                let tampered = body.replacingOccurrences(of: "Yes", with: "No!")
                let (s1, e1) = try await post(client, "/webhooks/smsmobileapi", tampered, Self.v2Headers(body))
                #expect(s1 == .unauthorized)
                #expect(e1.contains("unauthorized") && e1.contains("does not match") && !e1.contains(Self.v2Secret))
                var headers = Self.v2Headers(body)
                headers[.init("X-SMSMobileAPI-Timestamp")!] = String(Int(Self.now)! + 1)
                #expect(try await post(client, "/webhooks/smsmobileapi", body, headers).0 == .unauthorized)
                let stale = String(Int(Self.now)! - 301)
                let (s3, e3) = try await post(client, "/webhooks/smsmobileapi", body, Self.v2Headers(body, timestamp: stale))
                #expect(s3 == .unauthorized)
                #expect(e3.contains("timestamp"))
                let (s4, e4) = try await post(client, "/webhooks/smsmobileapi", body, [.contentType: "application/json"])
                #expect(s4 == .unauthorized)
                #expect(e4.contains("missing"))

                let other = Self.v2Body(guid: "v2-2", type: "sms.sent")
                let (s5, t5) = try await post(client, "/webhooks/smsmobileapi", other, Self.v2Headers(other))
                #expect(s5 == .accepted)
                #expect(t5.contains("acknowledged"))
            }
        }
        let failures = try metrics.expectCounter("smshook_auth_failures_total", [("route", "smsmobileapi"), ("reason", "bad_signature")])
        #expect(failures.totalValue == 2)
        #expect(try metrics.expectCounter("smshook_auth_failures_total", [("route", "smsmobileapi"), ("reason", "stale_timestamp")]).totalValue == 1)
        let audit = try await self.service.check.send("XRANGE", RedisArgument(self.service.keys.audit), "-", "+").array ?? []
        #expect(audit.compactMap { $0.array?[1].array?[1].string } == ["inbound", "provider_event"])
        await self.service.check.shutdown()
    }

    @Test func legacyAndV2ShareTheSMSMobileAPIKeySpace() async throws {
        try await self.service.app.test(.live) { client in
            let legacy = #"{"message":"Yes","number":"+15550300002","guid":"shared-1"}"#
            let ts = Self.now
            let sig = Signatures.standardWebhooks(secret: Self.legacySecret, id: "m1", timestamp: Int(ts)!, body: Array(legacy.utf8))
            let signed: HTTPFields = [.contentType: "application/json", .init("webhook-id")!: "m1", .init("webhook-timestamp")!: ts, .init("webhook-signature")!: sig]
            let (s1, t1) = try await post(client, "/api/webhook/sms-received", legacy, signed)
            #expect(s1 == .ok)
            #expect(t1.contains("Processed 1 message"))
            #expect(try await post(client, "/api/webhook/sms-received", legacy, [.contentType: "application/json"]).0 == .unauthorized)
            let v2 = Self.v2Body(guid: "shared-1")
            let (s2, t2) = try await post(client, "/webhooks/smsmobileapi", v2, Self.v2Headers(v2))
            #expect(s2 == .accepted)
            #expect(t2.contains(#""outcome":"duplicate""#))
        }
        await self.service.check.shutdown()
    }

    @Test func twilioFormIsSignedAndAnsweredWithEmptyTwiML() async throws {
        let fields = [
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"), ("AccountSid", "AC123"), ("From", "+15550300003"),
            ("To", "+15550000000"), ("Body", "yes please"), ("NumMedia", "0"),
        ]
        let body = FormEncoding.encode(fields)
        let signature = Signatures.twilio(authToken: Self.twilioToken, url: "https://hooks.example.com/webhooks/twilio", parameters: fields)
        let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .init("X-Twilio-Signature")!: signature]
        try await self.service.app.test(.live) { client in
            try await client.execute(uri: "/webhooks/twilio", method: .post, headers: headers, body: ByteBuffer(string: body)) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "text/xml")
                #expect(String(buffer: r.body) == #"<?xml version="1.0" encoding="UTF-8"?><Response/>"#)
            }
            // a retry of the same MessageSid is a duplicate: nothing more is queued
            #expect(try await post(client, "/webhooks/twilio", body, headers).0 == .ok)
            let tampered = body.replacingOccurrences(of: "yes", with: "no")
            #expect(try await post(client, "/webhooks/twilio", tampered, headers).0 == .unauthorized)
            #expect(try await post(client, "/webhooks/twilio", "{}", [.contentType: "application/json"]).0 == .unsupportedMediaType)
        }
        let jobs = try await self.service.check.send("LRANGE", RedisArgument(self.service.keys.replies), 0, -1).array ?? []
        #expect(jobs.count == 1)
        let job = try ReplyJob(json: JSONParser.parse(jobs[0].bytes ?? []))
        #expect(job.inReplyTo == "twilio:SM0123456789abcdef0123456789abcdef")
        #expect(job.to == "+15550300003")
        #expect(job.provider == "twilio")
        await self.service.check.shutdown()
    }

    @Test func androidSMSGatewayDedupsByMessageIdAcrossEventIds() async throws {
        @Sendable func body(event: String) -> String {
            #"{"deviceId":"dev-9","event":"sms:received","id":"\#(event)","payload":{"messageId":"msg-77","message":"No","phoneNumber":"+15550300004","simNumber":1,"receivedAt":"2025-01-20T10:14:50.000+00:00"},"webhookId":"wh-1"}"#
        }
        @Sendable func headers(_ body: String, key: String = Self.asgKey) -> HTTPFields {
            let ts = Self.now
            return [.contentType: "application/json", .init("X-Timestamp")!: ts,
                    .init("X-Signature")!: Signatures.androidSMSGateway(key: key, body: Array(body.utf8), timestamp: ts)]
        }
        try await self.service.app.test(.live) { client in
            let (s1, t1) = try await post(client, "/webhooks/android-sms-gateway", body(event: "e1"), headers(body(event: "e1")))
            #expect(s1 == .ok)
            #expect(t1.contains(#""outcome":"accepted""#))
            let (s2, t2) = try await post(client, "/webhooks/android-sms-gateway", body(event: "e2"), headers(body(event: "e2")))
            #expect(s2 == .ok)
            #expect(t2.contains(#""outcome":"duplicate""#))
            #expect(try await post(client, "/webhooks/android-sms-gateway", body(event: "e3"), headers(body(event: "e3"), key: "wrong")).0 == .unauthorized)
        }
        #expect(try await self.service.check.send("EXISTS", RedisArgument(self.service.keys.dedup("asg:msg-77"))) == .integer(1))
        await self.service.check.shutdown()
    }

    @Test func unconfiguredRoutesRefuseEveryone() async throws {
        let bare = try TestService(prefix: TestRedis.uniquePrefix("noauth")) { $0.auth = RouteAuth() }
        try await bare.app.test(.live) { client in
            let (status, text) = try await post(client, "/api/webhook/sms-received", #"{"message":"x"}"#, [.contentType: "application/json"])
            #expect(status == .unauthorized)
            #expect(text.contains("no secret is configured"))
        }
        await bare.check.shutdown()
        await self.service.check.shutdown()
    }
}
