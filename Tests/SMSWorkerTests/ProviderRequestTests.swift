import Crypto
import Foundation
import RedisClient
import SMSCore
import SMSWorker
import TestSupport
import Testing

@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct ProviderRequestTests {
    @Test func smsMobileAPIGetsTheExactFormAndTheJobIsAcknowledged() async throws {
        let fake = FakeProvider { _, _ in .init(body: #"{"result":{"error":"0","sent":"1","id":"sm-1"}}"#) }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .smsmobileapi, baseURL: base)
            try await h.enqueue([h.job(1, to: "+15550100001")])
            try await h.runWorker { let d = try await h.auditDecisions(); return fake.recorded.count == 1 && d == ["sent"] }
            let r = try #require(fake.recorded.first)
            #expect(r.method == "POST")
            #expect(r.path == "/sendsms/")
            #expect(r.headers["content-type"] == "application/x-www-form-urlencoded")
            #expect(r.body == "apikey=key-123&recipients=%2B15550100001&message=Thanks%21%20We%20got%20your%20YES.&sIdentifiant=ACME")
            #expect(try await h.check.send("EXISTS", RedisArgument(h.keys.sent("job-1"))) == .integer(1))
            #expect(try await h.length(h.keys.replies) == 0)
            #expect(try await h.length(h.keys.processing(h.configuration.workerID)) == 0)
            await h.check.shutdown()
        }
    }

    @Test func twilioGetsBasicAuthAndForm21610OptsTheNumberOut() async throws {
        let fake = FakeProvider { r, _ in
            r.form["To"] == "+15550100002"
                ? .init(status: 400, body: #"{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}"#)
                : .init(status: 201, body: #"{"sid":"SM123","status":"queued"}"#)
        }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .twilio, baseURL: base)
            try await h.enqueue([h.job(1, to: "+15550100001"), h.job(2, to: "+15550100002")])
            try await h.runWorker { let d = try await h.auditDecisions(); return fake.recorded.count == 2 && d.count == 2 }
            for r in fake.recorded {
                #expect(r.method == "POST")
                #expect(r.path == "/2010-04-01/Accounts/AC123/Messages.json")
                #expect(r.headers["authorization"] == "Basic " + Data("AC123:tok".utf8).base64EncodedString())
                #expect(r.form["From"] == "+15550000000")
                #expect(r.form["Body"] == "Thanks! We got your YES.")
            }
            #expect(Set(try await h.auditDecisions()) == ["sent", "dead"])
            #expect(try await h.check.send("SISMEMBER", RedisArgument(h.keys.optOut), "+15550100002") == .integer(1))
            let dead = try await h.check.send("LRANGE", RedisArgument(h.keys.dead), 0, -1).array ?? []
            #expect(dead.count == 1)
            let record = try JSONParser.parse(dead[0].bytes ?? [])
            #expect(record["job"]?["id"] == .string("job-2"))
            #expect(record["error"]?.stringValue?.contains("21610") == true)
            await h.check.shutdown()
        }
    }

    @Test func httpProviderSignsWithStandardWebhooks() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204) }
        try await fake.run { base in
            let h = try WorkerHarness(provider: .http, baseURL: base)
            try await h.enqueue([h.job(7)])
            try await h.runWorker { let d = try await h.auditDecisions(); return fake.recorded.count == 1 && d == ["sent"] }
            let r = try #require(fake.recorded.first)
            #expect(r.path == "/hook")
            #expect(r.headers["content-type"] == "application/json")
            #expect(r.body == #"{"to":"+15550100007","body":"Thanks! We got your YES.","job_id":"job-7","in_reply_to":"guid-7"}"#)
            #expect(r.headers["webhook-id"] == "job-7")
            let timestamp = try #require(r.headers["webhook-timestamp"].flatMap { Int($0) })
            #expect(abs(timestamp - Int(Date().timeIntervalSince1970)) < 60)
            // verify independently of the code under test
            let key = SymmetricKey(data: Data("secret-key".utf8))
            let mac = HMAC<SHA256>.authenticationCode(for: Data("job-7.\(timestamp).\(r.body)".utf8), using: key)
            #expect(r.headers["webhook-signature"] == "v1," + Data(mac).base64EncodedString())
            await h.check.shutdown()
        }
    }
}
