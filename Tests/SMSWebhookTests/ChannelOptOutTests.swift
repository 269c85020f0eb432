import HummingbirdTesting
import NIOCore
import RedisClient
import SMSCore
import SMSWebhook
import TestSupport
import Testing

/// Opt-out scope: global by default (a STOP to one channel silences all), or per channel when the config says so.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct ChannelOptOutTests {
    func decisions(scope: ReplyConfig.OptOutScope?, _ steps: [(channel: String, text: String)]) async throws -> ([String], TestService) {
        let service = try TestService(prefix: TestRedis.uniquePrefix("scope")) { c in
            c.replies.channels = [ChannelConfig(name: "a", provider: "smsmobileapi"), ChannelConfig(name: "b", provider: "smsmobileapi")]
            c.replies.optOutScope = scope
            c.replies.loopGuard.maxReplies = 10
        }
        let out = try await service.app.test(.live) { client in
            var out: [String] = []
            for (i, step) in steps.enumerated() {
                let body = JSONValue.object([("message", .string(step.text)), ("number", .string("+15550600001")), ("guid", .string("s\(i)"))]).json
                try await client.execute(
                    uri: "/api/webhook/sms-received?channel=\(step.channel)", method: .post, headers: jsonHeaders, body: ByteBuffer(string: body)
                ) { response in
                    let json = try JSONParser.parse(response.body.readableBytesView)
                    if case .array(let r)? = json["results"] { out.append(r.first?["reply"]?.stringValue ?? "-") }
                }
            }
            return out
        }
        return (out, service)
    }

    @Test func aStopSilencesEveryChannelByDefault() async throws {
        let (out, service) = try await self.decisions(scope: nil, [("a", "STOP"), ("b", "no"), ("a", "no")])
        #expect(out == ["queued", "suppressed_optout", "suppressed_optout"])
        #expect(try await service.check.send("SISMEMBER", RedisArgument(service.keys.optOut), "+15550600001") == .integer(1))
        await service.check.shutdown()
    }

    @Test func perChannelScopeSilencesOnlyThatChannel() async throws {
        let (out, service) = try await self.decisions(scope: .channel, [("a", "STOP"), ("b", "no"), ("a", "no"), ("a", "START"), ("a", "no")])
        #expect(out == ["queued", "queued", "suppressed_optout", "queued", "queued"])
        #expect(try await service.check.send("SCARD", RedisArgument(service.keys.optOut)) == .integer(0))
        #expect(try await service.check.send("SCARD", RedisArgument(service.keys.optOut(channel: "a"))) == .integer(0), "START opted back in")
        await service.check.shutdown()
    }
}
