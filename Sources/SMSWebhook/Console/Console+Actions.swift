import Foundation
import Hummingbird
import RedisClient
import SMSCore
import SMSStore
import SMSSystem

extension Console {
    /// Dead jobs, newest first, 50 a page; `error` filters on the error text (among the newest 2,000).
    func dead(_ request: Request, _ session: ConsoleSessions.Session) async -> Response {
        let query = request.uri.queryParameters
        var context = self.base("Dead jobs", session, flash: query["done"].map(String.init), nav: "dead")
        let filter = query["error"].map { String($0).trimmingWhitespace() } ?? ""
        let page = min(max(query["page"].flatMap { Int(String($0)) } ?? 1, 1), 40)
        context["filter"] = filter
        context["page"] = page
        do {
            let reach = filter.isEmpty ? page * Self.pageSize + 1 : 2000
            let records = try await DeadJobs(redis: self.redis, keys: self.keys).list(count: reach)
                .compactMap { raw -> JSONValue? in try? JSONParser.parse(raw) }
                .filter { filter.isEmpty || ($0["error"]?.stringValue ?? "").localizedCaseInsensitiveContains(filter) }
            let slice = records.dropFirst((page - 1) * Self.pageSize).prefix(Self.pageSize)
            context["jobs"] = slice.enumerated().map { i, record -> [String: Any] in
                let job = record["job"]
                return [
                    "index": i, "id": job?["id"]?.stringValue ?? "-", "to": job?["to"]?.stringValue ?? "-",
                    "attempts": (job?["attempt"]?.scalarText ?? "0"), "error": record["error"]?.stringValue ?? "-",
                    "failed_at": record["failed_at"]?.stringValue ?? "-",
                ]
            }
            context["has_jobs"] = !slice.isEmpty
            let link = { (p: Int) in "/console/dead?page=\(p)" + (filter.isEmpty ? "" : "&error=" + Self.pathComponent(filter)) }
            if page > 1 { context["prev"] = link(page - 1) }
            if records.count > page * Self.pageSize && page < 40 { context["next"] = link(page + 1) }
        } catch {
            context["error"] = "Redis is unavailable: \(error)"
        }
        return ConsoleView.page("dead", context)
    }

    /// Retry one, retry the selected, delete the selected; audited with the job ids.
    func deadAction(_ form: [String: [String]], _ session: ConsoleSessions.Session) async -> Response {
        let store = DeadJobs(redis: self.redis, keys: self.keys)
        let one = form["retry_one"]?.first
        let ids = (one.map { [$0] } ?? form["id"] ?? []).prefix(Self.maxRows).filter { !$0.isEmpty && $0.utf8.count <= 128 }
        let action = one != nil ? "retry" : (form["action"]?.first ?? "")
        guard !ids.isEmpty, action == "retry" || action == "delete" else {
            return ConsoleView.redirect("/console/dead")
        }
        var done = 0
        do {
            for id in ids { done += action == "retry" ? try await store.replay(id: id) : try await store.remove(id: id) }
        } catch {
            return ConsoleView.page("dead", self.base("Dead jobs", session, error: "Redis is unavailable: \(error)", nav: "dead"), status: .serviceUnavailable)
        }
        await self.audit(action == "retry" ? "dead_retry" : "dead_delete", by: session.user, [("jobs", .array(ids.map { .string($0) })), ("done", .number(String(done)))])
        let verb = action == "retry" ? "requeued" : "deleted"
        return ConsoleView.redirect("/console/dead?done=" + Self.pathComponent("\(verb) \(done) of \(ids.count)"))
    }

    /// Opt-outs: a lookup, 100 a page (SSCAN through the shards; `cursor` = `shard.cursor.skip`), add and remove.
    func optOuts(_ request: Request, _ session: ConsoleSessions.Session) async -> Response {
        let query = request.uri.queryParameters
        var context = self.base("Opt-outs", session, flash: query["done"].map(String.init), nav: "optouts")
        do {
            if let q = query["q"].map({ String($0).trimmingWhitespace() }), !q.isEmpty {
                let number = self.rules.current.policy.subscriber(q)
                context["q"] = q
                let shard = self.keys.shard(subscriber: number, guid: number)
                let member = try await self.redis.send("SISMEMBER", RedisArgument(shard.optOut), RedisArgument(number)) == .integer(1)
                context["lookup"] = "\(number) is \(member ? "opted out" : "not opted out")."
            }
            let cards = try await self.redis.pipeline(self.keys.shards.map { RedisCommand("SCARD", RedisArgument($0.optOut)) })
            context["total"] = cards.reduce(0) { $0 + Int($1.int ?? 0) }
            let position = (query["cursor"].map(String.init) ?? "0.0.0").split(separator: ".").compactMap { Int($0) }
            var (shard, cursor, skip) = position.count == 3 ? (position[0], position[1], position[2]) : (0, 0, 0)
            var numbers: [String] = []
            var next: String?
            while shard < self.keys.shards.count, numbers.count < Self.maxRows {
                let reply = try await self.redis.send(
                    "SSCAN", RedisArgument(self.keys.shards[shard].optOut), RedisArgument(cursor), "COUNT", 100).array ?? []
                let following = reply.first?.string.flatMap(Int.init) ?? 0
                let members = (reply.count > 1 ? reply[1].array ?? [] : []).compactMap(\.string)
                let room = Self.maxRows - numbers.count
                let taken = members.dropFirst(skip).prefix(room)
                numbers += taken
                if skip + taken.count < members.count {  // this batch is not finished: the next page starts inside it
                    next = "\(shard).\(cursor).\(skip + taken.count)"
                    break
                }
                skip = 0
                if following == 0 { shard += 1; cursor = 0 } else { cursor = following }
            }
            if next == nil, shard < self.keys.shards.count, numbers.count >= Self.maxRows { next = "\(shard).\(cursor).0" }
            context["numbers"] = numbers.map { ["number": $0, "number_path": Self.pathComponent($0)] }
            if let next { context["next"] = "/console/optouts?cursor=" + next }
        } catch {
            context["error"] = "Redis is unavailable: \(error)"
        }
        return ConsoleView.page("optouts", context)
    }

    /// Adds or removes a number with a reason: the set, the audit entry and the `optout.changed` event in one call.
    func optOutAction(_ form: [String: [String]], _ session: ConsoleSessions.Session) async -> Response {
        let raw = (form["number"]?.first ?? "").trimmingWhitespace()
        let reason = String((form["reason"]?.first ?? "").trimmingWhitespace().prefix(500))
        let action = form["action"]?.first ?? ""
        guard !raw.isEmpty, raw.utf8.count <= 64, !reason.isEmpty, action == "add" || action == "remove" else {
            var context = self.base("Opt-outs", session, error: "A number, a reason and an action are needed.", nav: "optouts")
            context["numbers"] = [[String: Any]]()
            return ConsoleView.page("optouts", context, status: .unprocessableContent)
        }
        let rules = self.rules.current
        let number = rules.policy.subscriber(raw)
        let now = Timestamp.now()
        let record = JSONValue.object([
            ("action", .string(action)), ("number", .string(raw)), ("subscriber", .string(number)), ("by", .string(session.user)),
            ("via", .string("console")), ("reason", .string(reason)), ("at", .string(now)),
        ]).json
        do {
            let changed = try await OptOutScript.change(
                redis: self.redis, keys: self.keys, subscriber: number, channel: nil, add: action == "add", record: record,
                endpoints: rules.eventEndpoints.filter { $0.accepts(.optOutChanged) }, auditMaxLength: self.auditMaxLength,
                at: now, eventID: JobID.makeEventID())
            let done = changed ? (action == "add" ? "\(number) opted out" : "\(number) opted back in") : "\(number): no change"
            return ConsoleView.redirect("/console/optouts?done=" + Self.pathComponent(done))
        } catch {
            return ConsoleView.page("optouts", self.base("Opt-outs", session, error: "Redis is unavailable: \(error)", nav: "optouts"), status: .serviceUnavailable)
        }
    }
}
