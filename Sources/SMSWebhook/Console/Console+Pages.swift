import Foundation
import Hummingbird
import RedisClient
import SMSCore
import SMSStore
import SMSSystem

extension Console {
    func dashboard(_ session: ConsoleSessions.Session) async -> Response {
        var context = self.base("Dashboard", session, nav: "dashboard")
        context["refresh"] = 10
        do {
            let stats = try await QueueStats.read(redis: self.redis, keys: self.keys)
            let series = try await MinuteStats.read(redis: self.redis, keys: self.keys, fields: ["in", "out"])
            context["stats"] = [
                "queued": stats.queued, "processing": stats.processing, "retryDueNow": stats.retryDueNow,
                "retryLater": stats.retryLater, "dead": stats.dead, "optOuts": stats.optOuts,
            ]
            context["oldest"] = Int(stats.oldestJobAge.rounded())
            context["workers"] = stats.workers.map { w -> [String: Any] in
                ["id": w.id, "age": w.heartbeatAge.map { String(Int($0.rounded())) } ?? "expired", "processing": w.processing]
            }
            for field in ["in", "out"] {
                let values = series[field] ?? []
                context["\(field)_total"] = values.reduce(0, +)
                context["\(field)_svg"] = ConsoleView.sparkline(values, label: "\(field == "in" ? "Messages in" : "Replies out") per minute, last 60 minutes, total \(values.reduce(0, +))")
            }
            let endpoints = self.rules.current.eventEndpoints
            var rows: [[String: Any]] = []
            for endpoint in endpoints {
                let counts = try await DeadEvents(redis: self.redis, keys: self.keys, endpoint: endpoint.name).counts()
                rows.append([
                    "name": endpoint.name, "queued": counts.queued, "retrying": counts.retrying, "dead": counts.dead,
                    "state": counts.disabled.map { "disabled: \($0)" } ?? "delivering",
                ])
            }
            context["has_endpoints"] = !rows.isEmpty
            context["endpoints"] = rows
        } catch {
            context["error"] = "Redis is unavailable: \(error)"
        }
        return ConsoleView.page("dashboard", context)
    }

    /// Search: a guid (its record), a number (its timeline), or recent inbound messages with an intent.
    func messages(_ request: Request, _ session: ConsoleSessions.Session) async -> Response {
        var context = self.base("Messages", session, nav: "messages")
        let query = request.uri.queryParameters
        let q = query["q"].map { String($0).trimmingWhitespace() } ?? ""
        let intent = query["intent"].map(String.init).flatMap(Intent.init(rawValue:))
        context["q"] = q
        context["intents"] = Intent.allCases.map { ["value": $0.rawValue, "selected": $0 == intent] }
        do {
            if !q.isEmpty {
                if q.utf8.count <= 256, let found = try await self.dedupRecord(q) {
                    return self.recordPage(title: "Message \(q)", where: "The message's record (dedup key, shard \(found.shard)).", json: found.json, number: found.number, session)
                }
                let number = self.rules.current.policy.subscriber(q)
                return ConsoleView.redirect("/console/numbers/" + Self.pathComponent(number))
            }
            if let intent {
                context["searched"] = true
                // the newest inbound entries of every shard (bounded), filtered
                let perShard = max(20, 2000 / self.keys.shards.count)
                var rows: [(AuditEntry, Int)] = []
                for shard in self.keys.shards {
                    let entries = AuditEntry.entries(try await self.redis.send(
                        "XREVRANGE", RedisArgument(shard.audit), "+", "-", "COUNT", RedisArgument(perShard)))
                    rows += entries.filter { $0.fields["event"] == "inbound" && $0.data["intent"]?.stringValue == intent.rawValue }
                        .map { ($0, shard.index) }
                }
                rows.sort { ($0.0.milliseconds, $0.0.sequence) > ($1.0.milliseconds, $1.0.sequence) }
                self.addRows(rows, caption: "Recent messages classified \(intent.rawValue), newest first", to: &context)
            }
        } catch {
            context["error"] = "Redis is unavailable: \(error)"
        }
        return ConsoleView.page("messages", context)
    }

    /// One subscriber's timeline from the audit stream of their shard (the newest 2,000 entries looked at).
    func timeline(_ raw: String, _ session: ConsoleSessions.Session) async -> Response {
        let number = self.rules.current.policy.subscriber(raw.removingPercentEncoding ?? raw)
        var context = self.base("Timeline of \(number)", session, nav: "messages")
        context["number"] = number
        let shard = self.keys.shard(subscriber: number, guid: number)
        do {
            let entries = AuditEntry.entries(try await self.redis.send("XREVRANGE", RedisArgument(shard.audit), "+", "-", "COUNT", 2000))
            self.addRows(entries.filter { $0.concerns(number) }.map { ($0, shard.index) }, caption: "Newest first", to: &context)
            let optedOut = try await self.redis.send("SISMEMBER", RedisArgument(shard.optOut), RedisArgument(number))
            context["opted_out"] = optedOut == .integer(1) ? "yes" : "no"
        } catch {
            context["error"] = "Redis is unavailable: \(error)"
        }
        return ConsoleView.page("timeline", context)
    }

    /// One audit entry, raw.
    func record(shard: Int, id: String, _ session: ConsoleSessions.Session) async -> Response {
        guard self.keys.shards.indices.contains(shard), id.utf8.count <= 40,
            id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D })
        else { return ConsoleView.page("record", self.base("Not found", session, error: "No such record."), status: .notFound) }
        do {
            let entry = AuditEntry.entries(try await self.redis.send(
                "XRANGE", RedisArgument(self.keys.shards[shard].audit), RedisArgument(id), RedisArgument(id), "COUNT", 1)).first
            guard let entry else { return ConsoleView.page("record", self.base("Not found", session, error: "No such record (it may have aged out)."), status: .notFound) }
            let title = "\(entry.fields["event"] ?? "entry") \(entry.fields["decision"] ?? "")"
            return self.recordPage(
                title: title, where: "Audit entry \(id), shard \(shard), \(ConsoleView.time(milliseconds: entry.milliseconds)).",
                json: entry.fields["data"] ?? "{}", number: entry.data["subscriber"]?.stringValue ?? entry.number, session)
        } catch {
            return ConsoleView.page("record", self.base("Record", session, error: "Redis is unavailable: \(error)"), status: .serviceUnavailable)
        }
    }

    func config(_ request: Request, _ session: ConsoleSessions.Session) async -> Response {
        var context = self.base("Config", session, nav: "config")
        let rules = self.rules.current
        context["path"] = self.rulesPath ?? "(built in)"
        context["sha256"] = rules.sha256
        if let text = request.uri.queryParameters["try"].map(String.init), !text.isEmpty {
            let text = String(text.prefix(1600))
            context["try"] = text
            let result = rules.classifier.classify(text)
            let message = InboundMessage(guid: "console", number: "+10000000000", message: text, provider: "console")
            let reply: String = switch rules.policy.decide(message, classification: result) {
            case .reply(let body): body
            case .none(let reason): "(none: \(reason))"
            }
            context["result"] = [
                "intent": result.intent.rawValue, "rule": result.matched ?? "-", "confidence": String(result.confidence),
                "language": result.language ?? "- (default \(rules.policy.defaultLanguage))", "reply": reply,
            ]
        }
        context["templates"] = rules.policy.templates.sorted { $0.key.rawValue < $1.key.rawValue }.flatMap { intent, template in
            (template.any.map { [["intent": intent.rawValue, "language": "any", "text": $0]] } ?? [])
                + template.byLanguage.sorted { $0.key < $1.key }.map { ["intent": intent.rawValue, "language": $0.key, "text": $0.value] }
        }
        context["languages"] = rules.languages.sorted { $0.key < $1.key }.map { name, v in
            ["name": name, "affirmative": v.affirmative.joined(separator: ", "), "negative": v.negative.joined(separator: ", "),
             "unknown": v.unknown.joined(separator: ", ")]
        }
        do {
            let pairs = try await self.redis.send("HGETALL", RedisArgument(self.keys.instances)).array ?? []
            var instances: [[String: Any]] = []
            for i in stride(from: 0, to: pairs.count - 1, by: 2) {
                guard let name = pairs[i].string, let json = pairs[i + 1].bytes.flatMap({ try? JSONParser.parse($0) }) else { continue }
                let sha = json["sha256"]?.stringValue ?? "-"
                let age = json["at"]?.stringValue.flatMap(Timestamp.age(of:)).map { String(Int($0.rounded())) } ?? "-"
                instances.append(["name": name, "sha256": sha, "age": age, "same": sha == rules.sha256 ? "yes" : "NO"])
            }
            context["instances"] = instances.sorted { ($0["name"] as? String ?? "") < ($1["name"] as? String ?? "") }
        } catch {
            context["error"] = "Redis is unavailable: \(error)"
        }
        return ConsoleView.page("config", context)
    }

    // MARK: helpers

    func recordPage(title: String, where: String, json: String, number: String?, _ session: ConsoleSessions.Session) -> Response {
        var context = self.base(title, session, nav: "messages")
        context["where"] = `where`
        context["json"] = Self.pretty(json)
        if let number {
            context["number"] = number
            context["number_path"] = Self.pathComponent(number)
        }
        return ConsoleView.page("record", context)
    }

    /// The dedup record of a guid, in whichever shard holds it.
    func dedupRecord(_ guid: String) async throws -> (shard: Int, json: String, number: String?)? {
        let replies = try await self.redis.pipeline(self.keys.shards.map { RedisCommand("GET", RedisArgument($0.dedup(guid))) })
        for (i, reply) in replies.enumerated() {
            if let text = try reply.orThrow().string {
                let json = try? JSONParser.parse(Array(text.utf8))
                var number = json?["subscriber"]?.stringValue ?? json?["number"]?.stringValue
                if number == nil {  // the short dedup value has no number: its audit entry, on the same shard, has
                    let entries = AuditEntry.entries(try await self.redis.send(
                        "XREVRANGE", RedisArgument(self.keys.shards[i].audit), "+", "-", "COUNT", 2000))
                    let entry = entries.first { $0.fields["event"] == "inbound" && $0.data["guid"]?.stringValue == guid }
                    number = entry?.data["subscriber"]?.stringValue ?? entry?.number
                }
                return (i, text, number)
            }
        }
        return nil
    }

    func addRows(_ entries: [(AuditEntry, Int)], caption: String, to context: inout [String: Any]) {
        let shown = entries.prefix(Self.maxRows)
        context["caption"] = caption
        context["has_rows"] = !shown.isEmpty
        context["more"] = entries.count > shown.count
        context["shown"] = shown.count
        context["rows"] = shown.map { entry, shard -> [String: Any] in
            let number = entry.data["subscriber"]?.stringValue ?? entry.number
            var text = entry.data["message"]?.stringValue ?? entry.data["body"]?.stringValue ?? ""
            if text.isEmpty, entry.fields["event"] == "send", let job = entry.data["job_id"]?.stringValue {
                let answering = entry.data["in_reply_to"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
                text = "job \(job)" + (answering.map { ", the reply to \($0)" } ?? "")
            }
            if let question = entry.data["in_reply_to"]?["body"]?.stringValue {  // an answer matched to a sent message
                text += " (answering “\(question.count > 60 ? String(question.prefix(57)) + "..." : question)”)"
            }
            var row: [String: Any] = [
                "at": ConsoleView.time(milliseconds: entry.milliseconds), "kind": entry.fields["event"] ?? "-",
                "text": text.count > 120 ? String(text.prefix(117)) + "..." : text,
                "intent": entry.data["intent"]?.stringValue ?? "",
                "decision": [entry.fields["decision"], entry.data["error"]?.stringValue].compactMap { $0 }.joined(separator: ": "),
                "link": "/console/records/\(shard)/\(entry.id)",
            ]
            if let number {
                row["number"] = number
                row["number_path"] = Self.pathComponent(number)
            }
            return row
        }
    }

    static func pathComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "+-._~"))) ?? ""
    }

    static func pretty(_ json: String) -> String {
        guard let data = json.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data),
            let out = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return json }
        return String(decoding: out, as: UTF8.self)
    }
}
