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

/// The operator console on the admin listener: login, sessions, CSRF, every page and action, audit, pagination.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct ConsoleTests {
    static let token = "console-token-0123456789"
    static func service(cluster: Bool = false) throws -> TestService {
        // scrypt with N = 1024 (fast for tests; the default is 2^15)
        let alice = try PasswordHash(password: "correct horse battery", salt: Array(repeating: 7, count: 16), rounds: 1024)
        #expect(PasswordHash(alice.description) == alice && alice.verify("correct horse battery") && !alice.verify("correct horse"))
        #expect(PasswordHash("correct horse battery") == nil)  // plaintext is never a hash
        return try TestService(prefix: TestRedis.uniquePrefix("console"), cluster: cluster) { c in
            c.console.tokens = [("ops", Self.token)]
            c.console.users = ["alice": alice]
            c.repliesSHA256 = "abc123"
        }
    }

    /// A logged-in browser: its session cookie and CSRF token.
    struct Browser {
        let client: any TestClientProtocol
        var cookie = ""
        var csrf = ""

        func get(_ uri: String) async throws -> (HTTPResponse.Status, String, HTTPFields) {
            try await self.client.execute(uri: uri, method: .get, headers: self.cookie.isEmpty ? [:] : [.cookie: self.cookie]) {
                ($0.status, String(buffer: $0.body), $0.headers)
            }
        }

        func post(_ uri: String, _ fields: [(String, String)], cookie: String? = nil) async throws -> (HTTPResponse.Status, String, HTTPFields) {
            var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            let jar = cookie ?? self.cookie
            if !jar.isEmpty { headers[.cookie] = jar }
            return try await self.client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: FormEncoding.encode(fields))) {
                ($0.status, String(buffer: $0.body), $0.headers)
            }
        }

        static func hidden(_ name: String, in html: String) -> String? {
            guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
            return String(html[range.upperBound...].prefix { $0 != "\"" })
        }

        static func setCookie(_ name: String, _ headers: HTTPFields) -> String? {
            headers[values: .setCookie].first { $0.hasPrefix(name + "=") }.map { String($0.prefix { $0 != ";" }) }
        }

        /// Logs in with `fields` (a token, or a user and password); nil cookie when refused.
        static func login(_ client: some TestClientProtocol, _ fields: [(String, String)]) async throws -> (Browser, HTTPResponse.Status) {
            var browser = Browser(client: client)
            let (_, page, headers) = try await browser.get("/console/login")
            let loginCookie = try #require(Self.setCookie("smshook_console_login", headers))
            let csrf = try #require(Self.hidden("csrf", in: page))
            let (status, _, answer) = try await browser.post("/console/login", [("csrf", csrf)] + fields, cookie: loginCookie)
            if let session = Self.setCookie("smshook_console", answer) {
                browser.cookie = session
                let (_, dashboard, _) = try await browser.get("/console")
                browser.csrf = Self.hidden("csrf", in: dashboard) ?? ""
            }
            return (browser, status)
        }
    }

    func auditActions(_ service: TestService) async throws -> [(String, JSONValue)] {
        var out: [(String, JSONValue)] = []
        for shard in service.space.shards {
            let entries = AuditEntry.entries(try await service.check.send("XRANGE", RedisArgument(shard.audit), "-", "+"))
            out += entries.filter { $0.fields["event"] == "console" }.map { ($0.fields["decision"] ?? "", $0.data) }
        }
        return out
    }

    @Test func loginIsRequiredAndSessionsEnd() async throws {
        let service = try Self.service()
        try await service.admin.test(.live) { client in
            let anonymous = Browser(client: client)
            let (status, _, headers) = try await anonymous.get("/console")
            #expect(status == .seeOther && headers[.location] == "/console/login")
            for path in ["/console/dead", "/console/messages", "/console/config", "/console/optouts", "/console/numbers/+1555"] {
                #expect(try await anonymous.get(path).0 == .seeOther, "\(path)")
            }
            #expect(try await anonymous.post("/console/optouts", [("number", "+15550100001"), ("reason", "x"), ("action", "add")]).0 == .forbidden)
            let (cssStatus, css, cssHeaders) = try await anonymous.get("/console/assets/console.css")
            #expect(cssStatus == .ok && css.contains("--ink") && cssHeaders[.contentType]?.hasPrefix("text/css") == true)

            // wrong secrets: refused and audited (the name tried, never the secret)
            #expect(try await Browser.login(client, [("token", "wrong-token-0123456789")]).1 == .unauthorized)
            #expect(try await Browser.login(client, [("username", "alice"), ("password", "wrong")]).1 == .unauthorized)
            #expect(try await Browser.login(client, [("username", "mallory"), ("password", "x")]).1 == .unauthorized)
            // a login form without its CSRF cookie is refused
            #expect(try await anonymous.post("/console/login", [("csrf", "x"), ("token", Self.token)]).0 == .forbidden)

            let (alice, aliceStatus) = try await Browser.login(client, [("username", "alice"), ("password", "correct horse battery")])
            #expect(aliceStatus == .seeOther && !alice.cookie.isEmpty && alice.csrf.count == 64)
            let (ops, _) = try await Browser.login(client, [("token", Self.token)])
            let (page, html, pageHeaders) = try await ops.get("/console")
            #expect(page == .ok && html.contains("token:ops"))
            #expect(pageHeaders[.init("Content-Security-Policy")!]?.contains("default-src 'none'") == true)
            #expect(pageHeaders[.init("X-Frame-Options")!] == "DENY" && pageHeaders[.cacheControl] == "no-store")
            let (_, _, loginHeaders) = try await Browser(client: client).get("/console/login")
            let cookieLine = try #require(loginHeaders[values: .setCookie].first)
            #expect(cookieLine.contains("HttpOnly") && cookieLine.contains("SameSite=Strict") && !cookieLine.contains("Secure"))

            // logging out ends the session everywhere
            #expect(try await alice.post("/console/logout", [("csrf", alice.csrf)]).0 == .seeOther)
            #expect(try await alice.get("/console").0 == .seeOther)
            #expect(try await ops.get("/console").0 == .ok)
        }
        let actions = try await self.auditActions(service).map(\.0)
        #expect(actions.filter { $0 == "login_failed" }.count == 3)
        #expect(actions.filter { $0 == "login" }.count == 2 && actions.contains("logout"))
        let failed = try await self.auditActions(service).filter { $0.0 == "login_failed" }.map { $0.1["by"]?.stringValue }
        #expect(failed.contains("mallory") && !failed.contains { $0?.contains("wrong") == true })
    }

    @Test func formsNeedTheSessionsCSRFTokenAndOptOutsAreAudited() async throws {
        let service = try Self.service()
        try await service.admin.test(.live) { client in
            let (ops, _) = try await Browser.login(client, [("token", Self.token)])
            // empty, and the session's token with its first character changed (one in 16 tokens starts with 0)
            for csrf in ["", (ops.csrf.first == "0" ? "1" : "0") + String(ops.csrf.dropFirst())] {
                let (status, _, _) = try await ops.post("/console/optouts", [("csrf", csrf), ("number", "+15550100002"), ("reason", "asked by phone"), ("action", "add")])
                #expect(status == .forbidden)
            }
            #expect(try await service.total("SCARD", \.optOut) == 0)
            let (added, _, headers) = try await ops.post("/console/optouts", [("csrf", ops.csrf), ("number", "+1 555 010 0002"), ("reason", "asked by phone"), ("action", "add")])
            #expect(added == .seeOther && headers[.location]?.contains("opted%20out") == true)
            #expect(try await service.check.send("SISMEMBER", RedisArgument(service.shard(number: "+15550100002", guid: "").optOut), "+15550100002") == .integer(1))
            let (_, lookup, _) = try await ops.get("/console/optouts?q=%2B15550100002")
            #expect(lookup.contains("+15550100002 is opted out."))
            #expect(try await ops.post("/console/optouts", [("csrf", ops.csrf), ("number", "+15550100002"), ("reason", ""), ("action", "remove")]).0 == .unprocessableContent)
            #expect(try await ops.post("/console/optouts", [("csrf", ops.csrf), ("number", "+15550100002"), ("reason", "resubscribed"), ("action", "remove")]).0 == .seeOther)
            #expect(try await service.total("SCARD", \.optOut) == 0)
        }
        var changes: [AuditEntry] = []
        for shard in service.space.shards {
            changes += AuditEntry.entries(try await service.check.send("XRANGE", RedisArgument(shard.audit), "-", "+"))
                .filter { $0.fields["event"] == "optout_change" }
        }
        #expect(changes.map { $0.fields["decision"] } == ["add", "remove"])
        #expect(changes.map { $0.data["reason"]?.stringValue } == ["asked by phone", "resubscribed"])
        #expect(changes.allSatisfy { $0.data["by"]?.stringValue == "token:ops" && $0.data["via"]?.stringValue == "console" })
    }

    @Test func dashboardTimelineSearchAndRecordsShowWhatRedisHolds() async throws {
        let service = try Self.service()
        let number = "+15550100077"
        try await service.app.test(.live) { client in
            #expect(try await client.postWebhook(#"{"message":"yes please","number":"\#(number)","guid":"console-1"}"#).0 == .ok)
            #expect(try await client.postWebhook(#"{"message":"no","number":"+15550100078","guid":"console-2"}"#).0 == .ok)
            let (status, _, _) = try await client.execute(uri: "/console", method: .get) { ($0.status, 0, 0) }
            #expect(status == .notFound)  // never on the public port
        }
        let stats = MinuteStats()
        stats.add("in", 7, at: Date().addingTimeInterval(-120))
        stats.add("out", 5, at: Date().addingTimeInterval(-120))
        await stats.flush(redis: service.check, keys: service.space)
        try await service.admin.test(.live) { client in
            let (ops, _) = try await Browser.login(client, [("token", Self.token)])
            let (_, dashboard, _) = try await ops.get("/console")
            let queued = try await service.total("LLEN", \.replies)
            #expect(dashboard.contains("id=\"stat-queued\">\(queued)<"))
            // 7 added here, and the serve's 2 first sightings, flushed by its StatsFlusher when it stopped
            #expect(dashboard.contains("Messages in per minute (total 9)"), "\(dashboard.components(separatedBy: "<figcaption>").dropFirst().map { $0.prefix(50) })")
            #expect(dashboard.contains("Replies out per minute (total 5)"))
            #expect(dashboard.contains("<svg role=\"img\"") && dashboard.contains("data-refresh=\"10\""))

            let (_, timeline, _) = try await ops.get("/console/numbers/" + number)
            #expect(timeline.contains("yes please") && timeline.contains("affirmative") && timeline.contains("queued"))
            let link = try #require(timeline.range(of: "/console/records/").map { String(timeline[$0.lowerBound...].prefix { $0 != "\"" }) })
            let (recordStatus, record, _) = try await ops.get(link)
            #expect(recordStatus == .ok && record.contains("console-1"))
            #expect(try await ops.get("/console/records/0/1-x").0 == .notFound)
            #expect(try await ops.get("/console/records/99/1-1").0 == .notFound)

            let (_, byGuid, _) = try await ops.get("/console/messages?q=console-2")
            #expect(byGuid.contains("negative") && byGuid.contains("Timeline of +15550100078"))
            let (redirect, _, headers) = try await ops.get("/console/messages?q=%2B1%20555%20010%200077")
            #expect(redirect == .seeOther && headers[.location] == "/console/numbers/+15550100077")
            let (_, byIntent, _) = try await ops.get("/console/messages?intent=affirmative")
            #expect(byIntent.contains("console-1") || byIntent.contains("yes please"))
            #expect(!byIntent.contains("+15550100078"))

            let (_, config, _) = try await ops.get("/console/config?try=si%20claro")
            #expect(config.contains("abc123") && config.contains("affirmative") && config.contains("<dd>es</dd>"))
        }
    }

    @Test func deadJobsArePagedRetriedAndDeleted() async throws {
        let service = try Self.service()
        let dead = service.keys.dead
        for i in 0..<120 {
            let job = ReplyJob(id: "dead-\(i)", to: "+1555010\(1000 + i)", body: "b", inReplyTo: "g-\(i)", intent: .affirmative, provider: "p", createdAt: "t", attempt: 3)
            let error = i % 2 == 0 ? "provider answered 400" : "gave up after 10 attempts: timeout"
            let record = #"{"job":\#(job.json),"error":"\#(error)","failed_at":"2026-01-01T00:\#(String(format: "%02d", i / 60)):\#(String(format: "%02d", i % 60))Z"}"#
            try await service.check.send("LPUSH", RedisArgument(dead), RedisArgument(record))
        }
        try await service.admin.test(.live) { client in
            let (ops, _) = try await Browser.login(client, [("token", Self.token)])
            let (_, first, _) = try await ops.get("/console/dead")
            #expect(first.components(separatedBy: "name=\"id\"").count - 1 == 50)
            #expect(first.contains("dead-119") && !first.contains("dead-69<") && first.contains("/console/dead?page=2"))
            let (_, third, _) = try await ops.get("/console/dead?page=3")
            #expect(third.components(separatedBy: "name=\"id\"").count - 1 == 20 && !third.contains("page=4"))
            let (_, far, _) = try await ops.get("/console/dead?page=999")
            #expect(far.contains("page 40"))
            let (_, filtered, _) = try await ops.get("/console/dead?error=timeout")
            #expect(filtered.components(separatedBy: "name=\"id\"").count - 1 == 50 && !filtered.contains("answered 400"))

            #expect(try await ops.post("/console/dead", [("csrf", ops.csrf), ("retry_one", "dead-7")]).0 == .seeOther)
            #expect(try await ops.post("/console/dead", [("csrf", ops.csrf), ("action", "delete"), ("id", "dead-8"), ("id", "dead-9")]).0 == .seeOther)
            #expect(try await ops.post("/console/dead", [("csrf", "nope"), ("action", "delete"), ("id", "dead-10")]).0 == .forbidden)
        }
        #expect(try await service.check.send("LLEN", RedisArgument(dead)) == .integer(117))
        let queued = try await service.check.send("LRANGE", RedisArgument(service.keys.replies), 0, -1).array ?? []
        #expect(try queued.compactMap(\.bytes).map { try ReplyJob(json: JSONParser.parse($0)).id } == ["dead-7"])
        let actions = try await self.auditActions(service)
        #expect(actions.contains { $0.0 == "dead_retry" && $0.1["jobs"] == .array([.string("dead-7")]) })
        #expect(actions.contains { $0.0 == "dead_delete" && $0.1["done"]?.scalarText == "2" })
    }

    @Test func optOutsArePagedAcrossShards() async throws {
        let service = try Self.service(cluster: true)
        for i in 0..<250 {
            let number = "+1555030\(1000 + i)"
            try await service.check.send("SADD", RedisArgument(service.shard(number: number, guid: "").optOut), RedisArgument(number))
        }
        try await service.admin.test(.live) { client in
            let (ops, _) = try await Browser.login(client, [("token", Self.token)])
            var seen: [String] = []
            var uri: String? = "/console/optouts"
            var pages = 0
            while let next = uri, pages < 10 {
                let (_, html, _) = try await ops.get(next)
                let numbers = html.components(separatedBy: "<tr><td>+1555030").dropFirst().map { "+1555030" + $0.prefix(4) }
                #expect(numbers.count <= 100)
                seen += numbers
                uri = html.range(of: "/console/optouts?cursor=").map { String(html[$0.lowerBound...].prefix { $0 != "\"" }) }
                pages += 1
            }
            #expect(Set(seen).count == 250 && seen.count == 250, "\(seen.count) over \(pages) pages")
            #expect(pages >= 3)
        }
    }
}
