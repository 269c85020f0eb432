import Foundation
import HummingbirdTesting
import Logging
import NIOCore
import RedisClient
import SMSCore
import SMSSystem
import SMSWebhook
import SMSWorker
import Synchronization
import TestSupport
import Testing

/// A reply leaves through the number, device and account its message arrived on: two Twilio accounts and an
/// SMSMobileAPI phone, from webhook to provider request.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct ChannelTests {
    static func channels(base: String) -> [ChannelConfig] {
        var a = ChannelConfig(name: "twilio-a", provider: "twilio", numbers: ["+15550100001"], credentials: ["account_sid": "T_A_SID", "auth_token": "T_A_TOKEN"])
        var b = ChannelConfig(name: "twilio-b", provider: "twilio", numbers: ["+1 555 010 0002"], credentials: ["account_sid": "T_B_SID", "auth_token": "T_B_TOKEN"])
        var c = ChannelConfig(name: "twilio-c", provider: "twilio", numbers: ["+15550100003"], credentials: ["account_sid": "T_C_SID", "auth_token": "T_C_TOKEN"])
        var phone = ChannelConfig(name: "android-1", provider: "smsmobileapi", devices: ["dev-1"], credentials: ["api_key": "SMA_KEY"])
        a.baseURL = base
        b.baseURL = base
        c.baseURL = base
        phone.baseURL = base
        return [a, b, c, phone]
    }

    static let env = [
        "T_A_SID": "AC_A", "T_A_TOKEN": "tok-a", "T_B_SID": "AC_B", "T_B_TOKEN": "tok-b", "SMA_KEY": "sma-key",
        "SMSHOOK_ALLOW_INSECURE_PROVIDER": "1",
    ]

    @Test func repliesLeaveThroughTheChannelTheMessageArrivedOn() async throws {
        let fake = FakeProvider { r, _ in
            r.path == "/sendsms/" ? .init(body: #"{"result":{"error":"0","sent":"1","id":"x"}}"#) : .init(status: 201, body: #"{"sid":"SMout"}"#)
        }
        try await fake.run { base in
            // the default channel is an SMSMobileAPI account: a Twilio message to an undeclared number may not use it
            let h = try WorkerHarness(provider: .smsmobileapi, baseURL: base)
            var replies = try ReplyConfig.load(path: RepoFile.path("config/smshook.yaml")).0
            replies.channels = Self.channels(base: base)
            var serve = ServeConfiguration(redis: h.configuration.redis, instanceID: "channels", replies: replies)
            serve.port = 0
            serve.auth = .none
            serve.keyPrefix = h.configuration.keyPrefix
            var logger = Logger(label: "channels")
            logger.logLevel = .critical
            let app = WebhookApplication.make(configuration: serve, redis: RedisClient(configuration: serve.redis, logger: logger), logger: logger)
            try await app.test(.live) { client in
                func twilio(_ sid: String, to: String, from: String, account: String) async throws {
                    let form = FormEncoding.encode([("MessageSid", sid), ("AccountSid", account), ("From", from), ("To", to), ("Body", "yes")])
                    try await client.execute(
                        uri: "/webhooks/twilio", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                        body: ByteBuffer(string: form)) { #expect($0.status == .ok) }
                }
                try await twilio("SMb", to: "+15550100002", from: "+15557770001", account: "AC_B")
                try await twilio("SMc", to: "+15550100003", from: "+15557770003", account: "AC_C")
                try await twilio("SMx", to: "+15559999999", from: "+15557770004", account: "AC_X")
                let v2 = JSONValue.object([
                    ("id", .string("e1")), ("type", .string("sms.received")),
                    ("data", .object([("guid", .string("g-phone")), ("from", .string("+15557770002")), ("message", .string("yes")),
                                      ("device_id", .string("dev-1")), ("sim", .string("2"))])),
                ]).json
                try await client.execute(
                    uri: "/webhooks/smsmobileapi", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: v2)) { #expect($0.status == .accepted) }
            }
            let named = try WorkerConfiguration.channelSenders(Self.channels(base: base), environment: Self.env, base: h.configuration.providerSettings)
            let channels = WorkerChannels(
                default: ChannelSender(name: "default", sender: HTTPSender.make(.smsmobileapi, h.configuration.providerSettings)), named: named)
            try await h.runWorker(channels: channels) { (try await h.auditDecisions()).count == 4 }

            // Twilio number B: account 2, From = B
            let b = try #require(fake.recorded.first { $0.path == "/2010-04-01/Accounts/AC_B/Messages.json" })
            #expect(b.form["From"] == "+15550100002" && b.form["To"] == "+15557770001")
            #expect(b.headers["authorization"] == "Basic " + Data("AC_B:tok-b".utf8).base64EncodedString())
            // the phone: its API key, device and SIM
            let phone = try #require(fake.recorded.first { $0.path == "/sendsms/" })
            #expect(phone.form["apikey"] == "sma-key" && phone.form["sIdentifiant"] == "dev-1" && phone.form["port"] == "2")
            #expect(phone.form["recipients"] == "+15557770002")
            #expect(fake.recorded.count == 2, "no reply may leave through another sender")
            // a channel without credentials and an undeclared Twilio number: dead, with the reason
            let dead = try await h.check.send("LRANGE", RedisArgument(h.keys.dead), 0, -1).array?.compactMap { $0.string } ?? []
            #expect(dead.count == 2)
            #expect(dead.contains { $0.contains("channel 'twilio-c' has no credentials: T_C_SID, T_C_TOKEN not set") })
            #expect(dead.contains { $0.contains("no channel is configured for twilio number +15559999999") })
            // the channel is recorded with the message
            let stored = try JSONParser.parse(try await h.check.send("GET", RedisArgument(h.keys.dedup("twilio:SMb"))).bytes ?? [])
            #expect(stored["channel"]?["name"] == .string("twilio-b") && stored["channel"]?["account"] == .string("AC_B"))
            await h.check.shutdown()
        }
    }

    /// Records when each channel sent.
    final class Clock: Sendable {
        let sends = Mutex<[(String, ContinuousClock.Instant)]>([])
    }

    struct RecordingSender: ReplySender {
        let name: String
        let clock: Clock
        func send(_ job: ReplyJob) async -> SendResult {
            self.clock.sends.withLock { $0.append((job.channel?.name ?? "-", .now)) }
            return .sent(providerID: nil)
        }
        func shutdown() async {}
    }

    @Test func aSaturatedChannelDoesNotSlowAnother() async throws {
        let h = try WorkerHarness()
        let clock = Clock()
        let slow = ChannelSender(name: "slow", sender: RecordingSender(name: "http", clock: clock), ratePerSecond: 2)
        let fast = ChannelSender(name: "fast", sender: RecordingSender(name: "http", clock: clock))
        let channels = WorkerChannels(default: fast, named: [slow, fast])
        var jobs: [ReplyJob] = []
        for i in 0..<12 {
            var job = h.job(i)
            job.channel = SMSCore.Channel(provider: "twilio", name: i % 2 == 0 ? "slow" : "fast")
            jobs.append(job)
        }
        try await h.enqueue(jobs)
        try await h.runWorker(channels: channels) { clock.sends.withLock { $0.count } == 12 }
        let sends = clock.sends.withLock { $0 }
        let slowTimes = sends.filter { $0.0 == "slow" }.map(\.1).sorted()
        let fastTimes = sends.filter { $0.0 == "fast" }.map(\.1).sorted()
        #expect(slowTimes.count == 6 && fastTimes.count == 6)
        // slow: 2 per second (burst 1) -> its sixth token 2.5 s after its first; the send is recorded after the claim
        // round trip that follows the token, which a loaded machine can delay by a few hundred ms; unlimited, the
        // six would go within milliseconds. No second holds more than 3.
        #expect(slowTimes[5] - slowTimes[0] >= .milliseconds(2000))
        for t in slowTimes {
            #expect(slowTimes.filter { $0 >= t && $0 < t + .seconds(1) }.count <= 3)
        }
        // fast: not held back by slow's limit: all six before slow's third
        #expect(fastTimes[5] < slowTimes[2], "the fast channel waited for the slow one")
        await h.check.shutdown()
    }
}

extension ChannelTests {
    @Test func theWorkerChecksTheChannelsOwnOptOutSetWhenScopedPerChannel() async throws {
        var harness = try WorkerHarness()
        harness.configuration.optOutPerChannel = true
        let h = harness
        try await h.check.send("SADD", RedisArgument(h.keys.optOut(channel: "a")), "+15550700001")
        var jobs: [ReplyJob] = []
        for (i, name) in ["a", "b"].enumerated() {
            var job = h.job(i, to: "+15550700001")
            job.channel = SMSCore.Channel(provider: "smsmobileapi", name: name)
            jobs.append(job)
        }
        try await h.enqueue(jobs)
        let console = ChannelSender(name: "console", sender: ConsoleSender())
        let channels = WorkerChannels(
            default: console, named: [ChannelSender(name: "a", sender: ConsoleSender()), ChannelSender(name: "b", sender: ConsoleSender())])
        try await h.runWorker(channels: channels) { (try await h.auditDecisions()).count == 2 }
        #expect(Set(try await h.auditDecisions()) == ["skipped_optout", "sent"])
        #expect(try await h.check.send("EXISTS", RedisArgument(h.keys.sent("job-1"))) == .integer(1), "channel b's reply was sent")
        await h.check.shutdown()
    }
}

@Suite struct ChannelRoutingTests {
    static func sender(_ name: String, _ kind: String) -> ChannelSender {
        ChannelSender(name: name, sender: UnavailableSender(name: kind, reason: "test"))
    }

    func routed(_ channel: SMSCore.Channel?, default kind: String = "smsmobileapi") -> String {
        let channels = WorkerChannels(default: Self.sender("default", kind), named: [Self.sender("twilio-b", "twilio")])
        var job = ReplyJob(id: "j", to: "+1", body: "b", inReplyTo: "g", intent: .help, provider: "x", createdAt: "t")
        job.channel = channel
        switch channels.route(job) {
        case .success(let c): return c.name
        case .failure(let e): return "refused: " + e.message
        }
    }

    @Test func jobsFollowTheirChannelAndNeverFallBackSilently() {
        #expect(self.routed(nil) == "default", "jobs queued before channels existed")
        #expect(self.routed(SMSCore.Channel(provider: "twilio", name: "twilio-b")) == "twilio-b")
        #expect(self.routed(SMSCore.Channel(provider: "twilio", name: "gone")).hasPrefix("refused: channel 'gone' is not configured"))
        #expect(self.routed(SMSCore.Channel(provider: "smsmobileapi", device: "d")) == "default")
        #expect(self.routed(SMSCore.Channel(provider: "twilio", number: "+1555")).hasPrefix("refused: no channel is configured for twilio number +1555"))
        #expect(self.routed(SMSCore.Channel(provider: "twilio", number: "+1555"), default: "http") == "default")
        #expect(self.routed(SMSCore.Channel(provider: "android-sms-gateway", device: "d"), default: "console") == "default")
    }

    @Test func inboundMessagesResolveToTheirDeclaredChannel() {
        let channels = ChannelTests.channels(base: "https://x")
        #expect(channels.resolve(SMSCore.Channel(provider: "twilio", number: "+15550100002")) == "twilio-b")
        #expect(channels.resolve(SMSCore.Channel(provider: "twilio", number: "+1 (555) 010-0001")) == "twilio-a")
        #expect(channels.resolve(SMSCore.Channel(provider: "smsmobileapi", device: "dev-1")) == "android-1")
        #expect(channels.resolve(SMSCore.Channel(provider: "smsmobileapi", number: "+15550100002")) == nil, "provider must match")
        #expect(channels.resolve(SMSCore.Channel(provider: "twilio", number: "+15550199999")) == nil)
        #expect(channels.resolve(SMSCore.Channel(provider: "smsmobileapi", name: "android-1")) == "android-1")
        #expect(SMSCore.Channel(provider: "twilio", number: String(repeating: "9", count: 65)).number == nil, "oversized identifiers are dropped")
        #expect(SMSCore.Channel(provider: "twilio", device: "a\nb").device == nil)
    }

    @Test func channelConfigIsValidated() {
        #expect(throws: ReplyConfigError.self) { try ChannelConfig.validate([.init(name: "a", provider: "twilio"), .init(name: "a", provider: "twilio")]) }
        #expect(throws: ReplyConfigError.self) { try ChannelConfig.validate([.init(name: "default", provider: "twilio")]) }
        #expect(throws: ReplyConfigError.self) { try ChannelConfig.validate([.init(name: "x", provider: "carrier-pigeon")]) }
        #expect(throws: Never.self) { try ChannelConfig.validate(ChannelTests.channels(base: "https://x")) }
    }
}
