import SMSCore
import Testing

@Suite struct SignatureTests {
    let twilioParams = [
        ("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"), ("Digits", "1234"), ("From", "+14158675309"),
        ("To", "+18005551212"),
    ]

    @Test func twilioPublishedVectors() {
        #expect(Signatures.twilio(authToken: "12345", url: "https://mycompany.com/myapp.php?foo=1&bar=2", parameters: twilioParams) == "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        #expect(Signatures.twilio(authToken: "12345", url: "https://mycompany.com:443/myapp.php?foo=1&bar=2", parameters: twilioParams) == "kvajT1Ptam85bY51eRf/AJRuM3w=")
    }

    @Test func twilioVerifierAcceptsTheURLWithAndWithoutTheDefaultPort() {
        for (base, signature) in [("https://mycompany.com", "RSOYDt4T1cUTdK1PDd93/VVr8B8="), ("https://mycompany.com", "kvajT1Ptam85bY51eRf/AJRuM3w="), ("https://mycompany.com:443", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")] {
            let auth = WebhookAuth(mode: .twilio, secrets: ["wrong", "12345"], publicBaseURL: base)
            let request = WebhookAuth.Request(headers: ["x-twilio-signature": signature], body: [], pathAndQuery: "/myapp.php?foo=1&bar=2", form: twilioParams)
            #expect(auth.verify(request, now: 0) == nil, "\(base) \(signature)")
        }
        let auth = WebhookAuth(mode: .twilio, secrets: ["12345"], publicBaseURL: "https://mycompany.com")
        var tampered = twilioParams
        tampered[2].1 = "1235"
        let bad = WebhookAuth.Request(headers: ["x-twilio-signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="], body: [], pathAndQuery: "/myapp.php?foo=1&bar=2", form: tampered)
        #expect(auth.verify(bad, now: 0)?.reason == "bad_signature")
    }

    /// One signer keeps its keyed state untouched: reused, from many tasks at once, each signature is the spec's.
    @Test func standardWebhooksSignerReused() async {
        let signer = StandardWebhooksSigner(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let vector = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        #expect(signer.sign(id: "other", timestamp: 1, body: []) != vector)
        #expect(signer.sign(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330, body: body) == vector)
        let signatures = await withTaskGroup(of: String.self) { group in
            for i in 0..<64 {
                group.addTask {
                    i % 2 == 0
                        ? signer.sign(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330, body: body)
                        : signer.sign(id: "msg_\(i)", timestamp: i, body: body)
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(signatures.filter { $0 == vector }.count == 32)
        #expect(Set(signatures).count == 33)
    }

    @Test func standardWebhooksPublishedVector() {
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        #expect(Signatures.standardWebhooks(secret: secret, id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330, body: body) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        let auth = WebhookAuth(mode: .standardWebhooks, secrets: [secret])
        func request(_ signature: String) -> WebhookAuth.Request {
            .init(headers: ["webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330", "webhook-signature": signature], body: body, pathAndQuery: "/")
        }
        #expect(auth.verify(request("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), now: 1614265330) == nil)
        #expect(auth.verify(request("v1,bm9wZQ== v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), now: 1614265330 + 299) == nil)
        #expect(auth.verify(request("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="), now: 1614265330)?.reason == "bad_signature")
        #expect(auth.verify(request("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), now: 1614265330 + 301)?.reason == "stale_timestamp")
        #expect(auth.verify(.init(headers: [:], body: body, pathAndQuery: "/"), now: 0)?.reason == "missing")
        // secrets set after init (as the environment's are): the decoded keys follow them
        var later = WebhookAuth(mode: .standardWebhooks, secrets: ["whsec_b2xkLW9uZQ=="])
        #expect(later.verify(request("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), now: 1614265330)?.reason == "bad_signature")
        later.secrets = ["whsec_b2xkLW9uZQ==", secret]
        #expect(later.verify(request("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), now: 1614265330) == nil)
    }

    @Test func smsMobileAPIAndAndroidGatewaySignatures() {
        let body = Array(#"{"type":"sms.received"}"#.utf8)
        let sig = Signatures.smsMobileAPI(secret: "s3", timestamp: "1700000000", body: body)
        #expect(sig.count == 64 && sig.allSatisfy(\.isHexDigit))
        let auth = WebhookAuth(mode: .smsMobileAPI, secrets: ["old", "s3"])
        let ok = WebhookAuth.Request(headers: ["x-smsmobileapi-signature": "v1=" + sig, "x-smsmobileapi-timestamp": "1700000000"], body: body, pathAndQuery: "/")
        #expect(auth.verify(ok, now: 1700000100) == nil)
        #expect(auth.verify(ok, now: 1700000301)?.reason == "stale_timestamp")
        var tampered = ok
        tampered.body.append(32)
        #expect(auth.verify(tampered, now: 1700000000)?.reason == "bad_signature")

        let asg = Signatures.androidSMSGateway(key: "k", body: body, timestamp: "1700000000")
        let asgAuth = WebhookAuth(mode: .androidSMSGateway, secrets: ["k"])
        let asgRequest = WebhookAuth.Request(headers: ["x-signature": asg, "x-timestamp": "1700000000"], body: body, pathAndQuery: "/")
        #expect(asgAuth.verify(asgRequest, now: 1700000000) == nil)
        #expect(asgAuth.verify(.init(headers: ["x-signature": asg, "x-timestamp": "1700000001"], body: body, pathAndQuery: "/"), now: 1700000000)?.reason == "bad_signature")
    }

    @Test func tokenAndUnconfiguredRoutes() {
        let auth = WebhookAuth(mode: .token, secrets: ["t0ken"])
        #expect(auth.verify(.init(headers: ["authorization": "Bearer t0ken"], body: [], pathAndQuery: "/"), now: 0) == nil)
        #expect(auth.verify(.init(headers: [:], body: [], pathAndQuery: "/x?token=t0ken"), now: 0) == nil)
        #expect(auth.verify(.init(headers: ["authorization": "Bearer nope"], body: [], pathAndQuery: "/"), now: 0)?.reason == "bad_signature")
        #expect(WebhookAuth(mode: .standardWebhooks).verify(.init(headers: [:], body: [], pathAndQuery: "/"), now: 0)?.reason == "not_configured")
        #expect(WebhookAuth(mode: .none).verify(.init(headers: [:], body: [], pathAndQuery: "/"), now: 0) == nil)
        #expect(Signatures.constantTimeEquals("abc", "abc"))
        #expect(!Signatures.constantTimeEquals("abc", "abd"))
        #expect(!Signatures.constantTimeEquals("abc", "abcd"))
    }
}
