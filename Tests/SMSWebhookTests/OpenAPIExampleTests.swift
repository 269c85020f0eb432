import Foundation
import HummingbirdTesting
import SMSCore
import TestSupport
import Testing
import Yams

@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct OpenAPIExampleTests {
    static func document() throws -> [String: Any] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    @Test func everyRequestExampleIsAcceptedByTheRunningServer() async throws {
        let paths = try #require(try Self.document()["paths"] as? [String: Any])
        let webhook = try #require((paths["/api/webhook/sms-received"] as? [String: Any])?["post"] as? [String: Any])
        let content = try #require(((webhook["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any])
        let examples = try #require(content["examples"] as? [String: Any])
        #expect(examples.count >= 4)
        let bodies = try examples.sorted(by: { $0.key < $1.key }).map { name, example in
            let value = try #require((example as? [String: Any])?["value"])
            return (name, String(decoding: try JSONSerialization.data(withJSONObject: value), as: UTF8.self))
        }
        let service = try TestService(prefix: TestRedis.uniquePrefix("openapi"))
        try await service.app.test(.live) { client in
            for (name, body) in bodies {
                let (status, json) = try await client.postWebhook(body)
                #expect(status == .ok, "example \(name)")
                #expect(json["status"] == .string("success"), "example \(name)")
                #expect((json["processed"]?.int ?? 0) >= 1, "example \(name)")
            }
        }
        await service.check.shutdown()
    }

    @Test func documentedStatusesAndErrorCodesMatchTheCode() throws {
        let paths = try #require(try Self.document()["paths"] as? [String: Any])
        let webhook = try #require((paths["/api/webhook/sms-received"] as? [String: Any])?["post"] as? [String: Any])
        let statuses = Set(try #require(webhook["responses"] as? [String: Any]).keys)
        #expect(statuses == ["200", "400", "401", "413", "415", "422", "503"])
        let schemas = try #require((try Self.document()["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let detail = try #require((schemas["ErrorDetail"] as? [String: Any])?["properties"] as? [String: Any])
        let codes = try #require((detail["code"] as? [String: Any])?["enum"] as? [String])
        let known: [PayloadError.Code] = [
            .invalidJSON, .invalidPayload, .missingField, .invalidType, .tooLong, .invalidGUID, .invalidNumber,
            .emptyBatch, .batchTooLarge, .bodyTooLarge, .unsupportedMediaType, .unavailable, .unauthorized, .requestTimeout, .notFound,
            .methodNotAllowed, .internal, .optedOut, .idempotencyKeyReused,
        ]
        #expect(Set(codes) == Set(known.map(\.rawValue)))
        let apiOnly: [PayloadError.Code] = [.optedOut, .idempotencyKeyReused]
        let send = try #require((paths["/api/v1/messages"] as? [String: Any])?["post"] as? [String: Any])
        let sendStatuses = Set(try #require(send["responses"] as? [String: Any]).keys)
        #expect(sendStatuses == ["202", "400", "401", "409", "413", "415", "422", "503"])
        for code in apiOnly { #expect(sendStatuses.contains(String(PayloadError(code, "").httpStatus)), "\(code)") }
        for code in known where ![.internal, .notFound, .methodNotAllowed, .requestTimeout].contains(code) && !apiOnly.contains(code) {
            let status = PayloadError(code, "").httpStatus
            #expect(statuses.contains(String(status)), "\(code) answers \(status), not documented")
        }
    }
}
