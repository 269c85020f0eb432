import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import RedisClient
import SMSCore
import SMSStore
import SMSWebhook
import TestSupport
import Testing

/// The send and read API against a real Redis: tokens, idempotency, opt-out, conversations matched to inbound
/// answers, per-number history, events enqueued by the ingest script.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct APITests {
    static let token = "tok_test_0123456789abcdef"
    static let auth: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]

    static func service(cluster: Bool = false, events: Bool = false) throws -> TestService {
        try TestService(prefix: TestRedis.uniquePrefix("api"), cluster: cluster) { c in
            c.apiTokens = [Self.token]
            c.replies.replies["affirmative"] = ReplyTemplate(byLanguage: ["en": "Thanks {meta.first_name}!", "es": "Gracias {meta.first_name}!"])
            if events {
                c.replies.events = EventsConfig(endpoints: [
                    EventEndpoint(name: "app", url: "http://127.0.0.1:9/e", secrets: ["S"], types: [.messageReceived, .optOutChanged]),
                    EventEndpoint(name: "sent-only", url: "http://127.0.0.1:9/s", secrets: ["S"], types: [.messageSent]),
                ])
            }
        }
    }

    static func call(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, body: String = "",
        headers: HTTPFields = auth
    ) async throws -> (HTTPResponse.Status, JSONValue, HTTPFields) {
        try await client.execute(uri: uri, method: method, headers: headers, body: method == .post ? ByteBuffer(string: body) : nil) {
            ($0.status, (try? JSONParser.parse($0.body.readableBytesView)) ?? .null, $0.headers)
        }
    }

    @Test func tokensAreRequiredAndTheAPIIsOffWithoutThem() async throws {
        let service = try Self.service()
        try await service.app.test(.live) { client in
            let body = #"{"to":"+15550100123","body":"hi"}"#
            let refused: [HTTPFields] = [
                [.contentType: "application/json"], [.authorization: "Bearer nope", .contentType: "application/json"],
                [.authorization: Self.token],
            ]
            for headers in refused {
                let (status, json, fields) = try await Self.call(client, .post, "/api/v1/messages", body: body, headers: headers)
                #expect(status == .unauthorized)
                #expect(json["error"]?["code"]?.stringValue == "unauthorized")
                #expect(fields[.wwwAuthenticate] == "Bearer")
            }
            let anonymous = try await Self.call(client, .get, "/api/v1/messages/x", headers: [:])
            #expect(anonymous.0 == .unauthorized)
        }
        #expect(try await service.total("LLEN", \.replies) == 0)
        let off = try TestService(prefix: TestRedis.uniquePrefix("api-off"))
        try await off.app.test(.live) { client in
            let (status, _, _) = try await Self.call(client, .post, "/api/v1/messages", body: "{}")
            #expect(status == .notFound)
        }
    }

    @Test func sendQueuesOnceAndRepliesAreMatchedToIt() async throws {
        let service = try Self.service()
        let number = "+15550100123"
        try await service.app.test(.live) { client in
            let body = #"{"to":"\#(number)","body":"Can you take the 9am shift? Reply YES or NO","metadata":{"first_name":"Ana","shift":"9am"}}"#
            var headers = Self.auth
            headers[.init("Idempotency-Key")!] = "shift-42"
            let (status, first, _) = try await Self.call(client, .post, "/api/v1/messages", body: body, headers: headers)
            #expect(status == .accepted)
            let id = try #require(first["id"]?.stringValue)
            #expect(id.hasPrefix("msg_") && first["status"]?.stringValue == "queued")
            // the same key and request: the first answer, nothing queued again
            let (again, replayed, fields) = try await Self.call(client, .post, "/api/v1/messages", body: body, headers: headers)
            #expect(again == .accepted && replayed == first && fields[.init("Idempotent-Replayed")!] == "true")
            // the same key with another request: refused
            let other = try await Self.call(client, .post, "/api/v1/messages", body: #"{"to":"\#(number)","body":"other"}"#, headers: headers)
            #expect(other.0 == .unprocessableContent && other.1["error"]?["code"]?.stringValue == "idempotency_key_reused")
            #expect(try await service.total("LLEN", \.replies) == 1)
            let shard = service.shard(number: number, guid: "")
            let job = try ReplyJob(json: JSONParser.parse(try #require(try await service.check.send("LINDEX", RedisArgument(shard.replies), 0).bytes)))
            #expect(job.id == id && job.kind == .message && job.to == number && job.channel == nil)

            let (got, record, _) = try await Self.call(client, .get, "/api/v1/messages/\(id)")
            #expect(got == .ok && record["status"]?.stringValue == "queued" && record["metadata"]?["shift"]?.stringValue == "9am")
            #expect(record["reply_window_seconds"]?.int == 7 * 86400)

            // the answer arrives: matched to the question, the reply filled from the conversation's metadata
            let (ok, _) = try await client.postWebhook(#"{"message":"yes","number":"\#(number)","guid":"api-in-1"}"#)
            #expect(ok == .ok)
            let (_, inbound, _) = try await Self.call(client, .get, "/api/v1/messages/api-in-1")
            #expect(inbound["direction"]?.stringValue == "inbound" && inbound["intent"]?.stringValue == "affirmative")
            #expect(inbound["in_reply_to"]?["id"]?.stringValue == id)
            #expect(inbound["in_reply_to"]?["metadata"]?["first_name"]?.stringValue == "Ana")
            #expect(inbound["language"]?.stringValue == "en" && inbound["decision"]?.stringValue == "queued")
            let reply = try ReplyJob(json: JSONParser.parse(try #require(try await service.check.send("LINDEX", RedisArgument(shard.replies), 0).bytes)))
            #expect(reply.body == "Thanks Ana!" && reply.kind == .reply && reply.inReplyTo == "api-in-1")

            // history: newest first, both ways; the limit is checked
            let (_, history, _) = try await Self.call(client, .get, "/api/v1/numbers/\(number)/messages?limit=10")
            guard case .array(let messages)? = history["messages"] else { Issue.record("no messages"); return }
            #expect(messages.map { $0["direction"]?.stringValue } == ["inbound", "outbound"])
            #expect(messages[1]["id"]?.stringValue == id)
            #expect(try await Self.call(client, .get, "/api/v1/numbers/\(number)/messages?limit=0").0 == .unprocessableContent)
            #expect(try await Self.call(client, .get, "/api/v1/messages/msg_none").0 == .notFound)
        }
    }

    @Test func optedOutNumbersAreRefusedAndPlaceholdersNeverReachAnSMS() async throws {
        let service = try Self.service()
        try await service.app.test(.live) { client in
            // no conversation: the metadata placeholder is removed, braces and all
            #expect(try await client.postWebhook(#"{"message":"yes","number":"+15550100124","guid":"api-nc-1"}"#).0 == .ok)
            let shard = service.shard(number: "+15550100124", guid: "")
            let reply = try ReplyJob(json: JSONParser.parse(try #require(try await service.check.send("LINDEX", RedisArgument(shard.replies), 0).bytes)))
            #expect(reply.body == "Thanks !")
            #expect(try await client.postWebhook(#"{"message":"STOP","number":"+15550100124","guid":"api-nc-2"}"#).0 == .ok)
            let queued = try await service.total("LLEN", \.replies)
            let (status, json, _) = try await Self.call(client, .post, "/api/v1/messages", body: #"{"to":"+15550100124","body":"hi"}"#)
            #expect(status == .conflict && json["error"]?["code"]?.stringValue == "opted_out")
            #expect(try await service.total("LLEN", \.replies) == queued)
            let bad = try await Self.call(client, .post, "/api/v1/messages", body: #"{"to":"+15550100125","body":"hi","channel":"nope"}"#)
            #expect(bad.0 == .unprocessableContent && bad.1["error"]?["field"]?.stringValue == "channel")
            #expect(try await Self.call(client, .post, "/api/v1/messages", body: "{not json").0 == .badRequest)
        }
    }

    @Test func ingestPublishesEventsInTheSameCall() async throws {
        let service = try Self.service(events: true)
        try await service.app.test(.live) { client in
            let number = "+15550100126"
            let (_, sent, _) = try await Self.call(client, .post, "/api/v1/messages", body: #"{"to":"\#(number)","body":"Reply YES or NO"}"#)
            #expect(try await client.postWebhook(#"{"message":"si","number":"\#(number)","guid":"api-ev-1"}"#).0 == .ok)
            #expect(try await client.postWebhook(#"{"message":"si","number":"\#(number)","guid":"api-ev-1"}"#).0 == .ok)  // duplicate
            #expect(try await client.postWebhook(#"{"message":"STOP","number":"\#(number)","guid":"api-ev-2"}"#).0 == .ok)
            let shard = service.shard(number: number, guid: "")
            let entries = try await service.check.send("LRANGE", RedisArgument(shard.events("app")), 0, -1).array ?? []
            let events = entries.compactMap(\.bytes).compactMap(QueuedEvent.init(entry:)).reversed()
            #expect(events.map(\.type) == ["message.received", "message.received", "optout.changed"])
            let first = try JSONParser.parse(try #require(events.first).body)
            #expect(first["data"]?["guid"]?.stringValue == "api-ev-1" && first["data"]?["language"]?.stringValue == "es")
            #expect(first["data"]?["in_reply_to"]?["id"] == sent["id"])
            #expect(Set(events.map(\.id)).count == 3 && events.allSatisfy { $0.attempt == 0 })
            // an endpoint that takes none of the ingest's types gets nothing from it
            #expect(try await service.check.send("LLEN", RedisArgument(shard.events("sent-only"))) == .integer(0))
        }
    }

    @Test func theLoopWorksOnACluster() async throws {
        let service = try Self.service(cluster: true, events: true)
        try await service.app.test(.live) { client in
            var ids: [String] = []
            for i in 0..<6 {
                let (status, json, _) = try await Self.call(client, .post, "/api/v1/messages", body: #"{"to":"+1555020\#(1000 + i)","body":"Q\#(i)"}"#)
                #expect(status == .accepted)
                ids.append(json["id"]?.stringValue ?? "")
                #expect(try await client.postWebhook(#"{"message":"yes","number":"+1555020\#(1000 + i)","guid":"api-cl-\#(i)"}"#).0 == .ok)
            }
            for (i, id) in ids.enumerated() {
                #expect(try await Self.call(client, .get, "/api/v1/messages/\(id)").1["to"]?.stringValue == "+1555020\(1000 + i)")
                let inbound = try await Self.call(client, .get, "/api/v1/messages/api-cl-\(i)").1
                #expect(inbound["in_reply_to"]?["id"]?.stringValue == id)
            }
            #expect(try await service.total("LLEN") { $0.events("app") } == 6)
        }
    }
}
