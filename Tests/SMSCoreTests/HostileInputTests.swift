import SMSCore
import Testing

/// Values an attacker or a broken provider can send: each is refused or bounded, never a trap.
@Suite struct HostileInputTests {
    static let hostileTimestamps = [
        "-9223372036854775808", "9223372036854775807", "99999999999999999999", "1e10", "", " 1", "0x10", "+1700000000",
        "-1", "1700000000 ", "١٧٠٠٠٠٠٠٠٠", "17000000000000",
    ]

    /// Every signed mode, with a header map whose timestamp is `ts` and otherwise well-formed.
    static func requests(timestamp ts: String) -> [(WebhookAuth, WebhookAuth.Request)] {
        let body = Array(#"{"message":"x"}"#.utf8)
        return [
            (WebhookAuth(mode: .standardWebhooks, secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]),
             .init(headers: ["webhook-id": "m1", "webhook-timestamp": ts, "webhook-signature": "v1,AAAA"], body: body, pathAndQuery: "/")),
            (WebhookAuth(mode: .smsMobileAPI, secrets: ["s"]),
             .init(headers: ["x-smsmobileapi-signature": "v1=00", "x-smsmobileapi-timestamp": ts], body: body, pathAndQuery: "/")),
            (WebhookAuth(mode: .androidSMSGateway, secrets: ["s"]),
             .init(headers: ["x-signature": "00", "x-timestamp": ts], body: body, pathAndQuery: "/")),
        ]
    }

    @Test(arguments: hostileTimestamps) func timestampsAreRefusedWithoutATrap(_ ts: String) {
        for (auth, request) in Self.requests(timestamp: ts) {
            for now in [Int.min, -1, 0, 1_700_000_000, Int.max] {
                let failure = auth.verify(request, now: now)
                #expect(failure != nil, "\(auth.mode) accepted timestamp '\(ts)' at \(now)")
                #expect(["bad_timestamp", "stale_timestamp"].contains(failure?.reason ?? ""), "\(auth.mode) '\(ts)': \(String(describing: failure))")
            }
        }
    }

    @Test func aTimestampAtTheExtremesOfTheClockIsStaleNotATrap() {
        let auth = WebhookAuth(mode: .androidSMSGateway, secrets: ["s"])
        let request = WebhookAuth.Request(headers: ["x-signature": "00", "x-timestamp": "999999999999"], body: [], pathAndQuery: "/")
        #expect(auth.verify(request, now: Int.min)?.reason == "stale_timestamp")
        #expect(auth.verify(request, now: Int.max)?.reason == "stale_timestamp")
    }

    @Test(arguments: [
        "", "v1,", "v1,!!!notbase64", String(repeating: "A", count: 8000), "v1," + String(repeating: "=", count: 100),
        "v2,AAAA", Array(repeating: "v1,AAAA", count: 10).joined(separator: " "),
    ])
    func malformedSignaturesAreRefused(_ signature: String) {
        let auth = WebhookAuth(mode: .standardWebhooks, secrets: ["s"])
        let request = WebhookAuth.Request(
            headers: ["webhook-id": "m1", "webhook-timestamp": "1700000000", "webhook-signature": signature], body: [], pathAndQuery: "/")
        #expect(auth.verify(request, now: 1_700_000_000)?.reason == "bad_signature")
    }

    @Test func moreThanTenSignaturesAreRefusedBeforeAnyIsComputed() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let body = Array("{}".utf8)
        let good = Signatures.standardWebhooks(secret: secret, id: "m1", timestamp: 1_700_000_000, body: body)
        let auth = WebhookAuth(mode: .standardWebhooks, secrets: [secret])
        func request(_ entries: Int) -> WebhookAuth.Request {
            let sigs = Array(repeating: "v1,AAAA", count: entries - 1) + [good]
            return .init(headers: ["webhook-id": "m1", "webhook-timestamp": "1700000000", "webhook-signature": sigs.joined(separator: " ")], body: body, pathAndQuery: "/")
        }
        #expect(auth.verify(request(10), now: 1_700_000_000) == nil)
        let refused = auth.verify(request(11), now: 1_700_000_000)
        #expect(refused?.reason == "bad_signature")
        #expect(refused?.message.contains("more than 10") == true)
    }

    @Test(arguments: [
        ("inf", nil), ("-inf", nil), ("nan", nil), ("1e300", nil), ("-1", nil), ("0x10", nil), ("", nil), (" ", nil),
        ("Wed, 21 Oct 2015 07:28:00 GMT", nil), ("1.5", 1.5), (" 30 ", 30), ("99999999999999999999", 86_400),
        ("86401", 86_400), (".5", nil), ("1..2", nil), (String(repeating: "9", count: 40), nil),
    ] as [(String, Double?)])
    func retryAfterIsFiniteAndCapped(_ header: String, _ expected: Double?) {
        #expect(ProviderResponses.retryAfter(header) == expected)
    }

    @Test func backoffStaysFiniteWhateverComesIn() {
        let backoff = Backoff(baseSeconds: 5, capSeconds: 3600, maxAttempts: 10)
        for attempt in [Int.min, -1, 0, 1, 2, 40, 1_000_000, Int.max] {
            for retryAfter in [nil, -1, 0, 1e300, .infinity, -.infinity, .nan, 30] as [Double?] {
                for random in [-1, 0, 0.5, 1, 2, .nan] as [Double] {
                    let d = backoff.delay(afterAttempt: attempt, retryAfter: retryAfter, random: random)
                    #expect(d.isFinite && d >= 0 && d <= Backoff.maxDelaySeconds, "\(attempt) \(String(describing: retryAfter)) \(random): \(d)")
                }
            }
        }
    }

    @Test(arguments: [("1e300", 1_000_000), ("-5", 0), ("3.0", 3), ("99999999999999999999", 1_000_000), ("7", 7), ("-1e300", 0)])
    func jobCountersReadFromRedisAreClamped(_ text: String, _ expected: Int) throws {
        let json = #"{"id":"j","to":"+1555","body":"b","in_reply_to":"g","intent":"help","provider":"p","created_at":"t","attempt":\#(text),"recovered":\#(text)}"#
        let job = try ReplyJob(json: JSONParser.parse(Array(json.utf8)))
        #expect(job.attempt == expected)
        #expect(job.recovered == expected)
    }

    @Test func formsWithTooManyFieldsAreRefused() {
        let ok = (0..<FormEncoding.maxFields).map { "f\($0)=v" }.joined(separator: "&")
        #expect(FormEncoding.decode(ok)?.count == FormEncoding.maxFields)
        #expect(FormEncoding.decode(ok + "&x=1") == nil)
        #expect(FormEncoding.decode(String(repeating: "a=1&", count: 200_000)) == nil)
        #expect(FormEncoding.decode("a=%zz") == nil)
        #expect(FormEncoding.decode("a=%") == nil)
    }

    @Test func objectsWithTooManyMembersAreRefused() throws {
        let members = (0..<JSONParser.maxMembers).map { "\"k\($0)\":1" }
        #expect(throws: Never.self) { try JSONParser.parse(Array(("{" + members.joined(separator: ",") + "}").utf8)) }
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(Array(("{" + (members + ["\"x\":1"]).joined(separator: ",") + "}").utf8)) }
    }

    @Test func aLegacyGuidCannotTakeAnotherProvidersKeySpace() throws {
        for guid in ["twilio:SM123", "TWILIO:SM123", "asg:abc", "Asg:abc"] {
            let body = Array(#"{"message":"x","guid":"\#(guid)"}"#.utf8)
            let decoded = try LegacyPayload.decode(body, limits: IngestLimits())
            guard case .rejected(_, _, let error)? = decoded.items.first else {
                Issue.record("\(guid) was accepted")
                continue
            }
            #expect(error.code == .invalidGUID)
        }
        let v2 = Array(#"{"type":"sms.received","id":"e","data":{"guid":"twilio:SM1","from":"+15550100000","message":"x"}}"#.utf8)
        #expect(throws: PayloadError.self) { try ProviderPayloads.smsMobileAPIV2(v2, limits: IngestLimits()) }
        let fine = Array(#"{"message":"x","guid":"twilioSM123"}"#.utf8)
        guard case .accepted? = try LegacyPayload.decode(fine, limits: IngestLimits()).items.first else {
            Issue.record("an ordinary guid was refused")
            return
        }
    }

    @Test func aForgedLogLineStaysOneLine() {
        let forged = LogText.escape("yes\n2026-01-01T00:00:00Z error forged\r\u{1B}[31m\u{2028}x\\n")
        #expect(!forged.contains("\n") && !forged.contains("\r") && !forged.contains("\u{1B}") && !forged.contains("\u{2028}"))
        #expect(forged == #"yes\n2026-01-01T00:00:00Z error forged\r\u{1B}[31m\u{2028}x\\n"#)
        #expect(LogText.escape("plain text, ünïcode ✓") == "plain text, ünïcode ✓")
    }
}

@Suite struct PhoneNumberTests {
    @Test(arguments: [
        ("+1 (555) 010-0000", nil, "+15550100000"), ("+15550100000", nil, "+15550100000"),
        ("001 555 010 0000", nil, "+15550100000"), ("(555) 010-0000", "1", "+15550100000"),
        ("1 555 010 0000", "1", "+15550100000"), ("011 44 7700 900123", "1", "+447700900123"),
        ("07700 900123", "44", "+447700900123"), ("+44 7700 900123", "44", "+447700900123"),
        ("0044 7700 900123", "44", "+447700900123"), ("5550100000", nil, "5550100000"),
        ("12345", "1", "12345"), ("ACME-Shop", "1", "ACME-Shop"), ("InfoSMS", nil, "InfoSMS"),
    ] as [(String, String?, String)])
    func spellingsOfOneNumberAreOneSubscriber(_ raw: String, _ code: String?, _ expected: String) {
        #expect(PhoneNumber.subscriber(raw, defaultCountryCode: code) == expected)
    }

    @Test func countryCodesAreChecked() {
        #expect(PhoneNumber.isCountryCode("1") && PhoneNumber.isCountryCode("44") && PhoneNumber.isCountryCode("353"))
        #expect(!PhoneNumber.isCountryCode("") && !PhoneNumber.isCountryCode("0") && !PhoneNumber.isCountryCode("1234") && !PhoneNumber.isCountryCode("+1"))
    }
}
