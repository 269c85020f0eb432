import HummingbirdTesting
import NIOCore
import RedisClient
import SMSCore
import TestSupport
import Testing

@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct BadInputTests {
    static let hugeMessage = String(repeating: "x", count: 1601)
    static let nested = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)

    /// body, expected status, expected error code
    static let cases: [(String, Int, String)] = [
        ("not json", 400, "invalid_json"),
        ("", 400, "invalid_json"),
        ("{\"message\":\"a\"} trailing", 400, "invalid_json"),
        ("[1,2,3]", 422, "invalid_payload"),
        ("\"just a string\"", 422, "invalid_payload"),
        ("{}", 422, "missing_field"),
        (#"{"message":42,"guid":"t1"}"#, 422, "invalid_type"),
        (#"{"message":"x","guid":42.5e1,"number":true}"#, 422, "invalid_type"),
        (#"{"message":"x","number":"1+2"}"#, 422, "invalid_number"),
        (#"{"message":"x","guid":"a b"}"#, 422, "invalid_guid"),
        ("{\"message\":\"\(hugeMessage)\"}", 422, "too_long"),
        (#"{"messages":[]}"#, 422, "empty_batch"),
        (#"{"messages":"nope"}"#, 422, "invalid_type"),
        (#"{"messages":[1,"a",null]}"#, 422, "invalid_payload"),
        ("{\"message\":\(nested)}", 400, "invalid_json"),
        (#"{"message":{"a":{"b":[1,2,{"c":null}]}}}"#, 422, "invalid_type"),
    ]

    @Test func badBodiesGetTheDocumentedStatusAndCode() async throws {
        let service = try TestService(prefix: TestRedis.uniquePrefix("bad"))
        try await service.app.test(.live) { client in
            for (body, status, code) in Self.cases {
                let (got, json) = try await client.postWebhook(body)
                #expect(got.code == status, "\(body.prefix(50))")
                #expect(json["status"] == .string("error"))
                #expect(json["error"]?["code"] == .string(code), "\(body.prefix(50))")
                #expect(json["error"]?["message"]?.stringValue?.isEmpty == false)
            }
            // invalid UTF-8 inside a string
            let bytes = ByteBuffer(bytes: Array(#"{"message":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8))
            try await client.execute(uri: "/api/webhook/sms-received", method: .post, headers: jsonHeaders, body: bytes) {
                #expect($0.status == .badRequest)
            }
            // still serving
            let (status, json) = try await client.postWebhook(#"{"message":"still here","guid":"after-bad"}"#)
            #expect(status == .ok)
            #expect(json["processed"]?.int == 1)
        }
        // every refused single message is kept in the rejected stream
        let kept = try await service.check.send("XLEN", RedisArgument(service.keys.rejected))
        // {}, message 42, number true, number 1+2, guid "a b", too long, nested object, the 3 items of [1,"a",null]
        #expect(kept.int == 10)
        await service.check.shutdown()
    }

    @Test func mediaTypeSizeAndBatchLimits() async throws {
        let service = try TestService(prefix: TestRedis.uniquePrefix("limits")) { $0.limits.maxBatch = 5 }
        try await service.app.test(.live) { client in
            let (s415, j415) = try await client.postWebhook(#"{"message":"x"}"#, headers: [.contentType: "text/plain"])
            #expect(s415 == .unsupportedMediaType)
            #expect(j415["error"]?["code"] == .string("unsupported_media_type"))
            let (sCharset, _) = try await client.postWebhook(#"{"message":"x"}"#, headers: [.contentType: "application/json; charset=utf-8"])
            #expect(sCharset == .ok)
            let big = "{\"message\":\"" + String(repeating: "a", count: 1 << 20) + "\"}"
            let (s413, j413) = try await client.postWebhook(big)
            #expect(s413 == .contentTooLarge)
            #expect(j413["error"]?["code"] == .string("body_too_large"))
            let six = "{\"messages\":[" + (0..<6).map { #"{"message":"m","guid":"b\#($0)"}"# }.joined(separator: ",") + "]}"
            let (sBatch, jBatch) = try await client.postWebhook(six)
            #expect(sBatch == .contentTooLarge)
            #expect(jBatch["error"]?["code"] == .string("batch_too_large"))
            try await client.execute(uri: "/nowhere", method: .get) { response in
                #expect(response.status == .notFound)
                let json = try JSONParser.parse(response.body.readableBytesView)
                #expect(json["error"]?["code"] == .string("not_found"))
            }
        }
        // nothing of the refused requests was stored
        #expect(try await service.check.send("EXISTS", RedisArgument(service.keys.dedup("b0"))) == .integer(0))
        await service.check.shutdown()
    }
}
