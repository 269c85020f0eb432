@testable import SMSCore
import SMSSystem
import Testing

@Suite struct IngestSummaryTests {
    func summary(_ outcomes: [IngestSummary.Outcome]) -> IngestSummary {
        IngestSummary(results: outcomes.enumerated().map { .init(guid: "g\($0)", outcome: $1, intent: nil, index: $0) })
    }

    @Test func wordsAgreeWithCounts() {
        #expect(summary([.accepted, .accepted]).text == "Processed 2 messages, skipped 0 duplicates")
        #expect(summary([.accepted, .duplicate]).text == "Processed 1 message, skipped 1 duplicate")
        #expect(summary([.duplicate, .duplicate]).text == "Processed 0 messages, skipped 2 duplicates")
        #expect(summary([.accepted, .rejected]).text == "Processed 1 message, skipped 0 duplicates, rejected 1 invalid message")
    }

    @Test func jsonKeepsTheSeedFieldsFirst() {
        let json = summary([.accepted, .duplicate]).json
        #expect(json.hasPrefix(#"{"status":"success","message":"Processed 1 message, skipped 1 duplicate","processed":1,"skipped":1,"rejected":0,"results":["#))
    }
}

@Suite struct JobIDTests {
    @Test func formatsVersion4Text() {
        #expect(JobID.format(high: 0, low: 0) == "00000000-0000-4000-8000-000000000000")
        #expect(JobID.format(high: .max, low: .max) == "ffffffff-ffff-4fff-bfff-ffffffffffff")
        #expect(JobID.format(high: 0x0123_4567_89ab_cdef, low: 0xfedc_ba98_7654_3210) == "01234567-89ab-4def-bedc-ba9876543210")
    }

    @Test func idsAreDistinctAndWellFormed() {
        let ids = (0..<1000).map { _ in JobID.make() }
        #expect(Set(ids).count == 1000)
        for id in ids {
            let parts = id.split(separator: "-").map(\.count)
            #expect(parts == [8, 4, 4, 4, 12])
            #expect(id.allSatisfy { "0123456789abcdef-".contains($0) })
            #expect(Array(id)[14] == "4")
            #expect("89ab".contains(Array(id)[19]))
        }
    }
}

@Suite struct TimestampTests {
    @Test func formatsUTCWithMilliseconds() {
        #expect(Timestamp.format(seconds: 0, milliseconds: 5) == "1970-01-01T00:00:00.005Z")
        #expect(Timestamp.format(seconds: 1_737_368_100, milliseconds: 123) == "2025-01-20T10:15:00.123Z")
        #expect(Timestamp.format(seconds: 951_827_696, milliseconds: 999) == "2000-02-29T12:34:56.999Z")
        #expect(Timestamp.now().count == 24)
    }
}
