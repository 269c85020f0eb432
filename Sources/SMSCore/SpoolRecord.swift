/// A webhook call kept on local disk while Redis is away: its validated messages (and refused items), as they will
/// be stored once Redis answers, through the same ingest script. Pure: JSON in, JSON out.
public enum SpoolRecord {
    public struct Contents: Sendable {
        public var decoded: LegacyPayload.Decoded
        /// When the call arrived (the messages keep this time when they are replayed).
        public var receivedAt: String
        public var route: String
        public var instance: String

        public init(decoded: LegacyPayload.Decoded, receivedAt: String, route: String, instance: String) {
            self.decoded = decoded
            self.receivedAt = receivedAt
            self.route = route
            self.instance = instance
        }
    }

    public static func encode(_ contents: Contents) -> [UInt8] {
        var w = JSONWriter(capacity: 512)
        w.beginObject()
        w.field("version", 1)
        w.field("route", contents.route)
        w.field("instance", contents.instance)
        w.field("received_at", contents.receivedAt)
        w.field("batch", contents.decoded.isBatch)
        w.key("items")
        w.beginArray()
        for item in contents.decoded.items {
            switch item {
            case .accepted(let m):
                w.beginObject()
                w.field("guid", m.guid)
                if m.guidDerived { w.field("guid_derived", true) }
                w.field("number", ifPresent: m.number)
                w.field("message", m.message)
                w.field("date", ifPresent: m.date)
                w.field("hour", ifPresent: m.hour)
                w.field("time_received", ifPresent: m.timeReceived)
                w.field("provider", m.provider)
                Channel.write(m.channel, to: &w)
                w.endObject()
            case .rejected(let index, let raw, let error):
                w.beginObject()
                w.field("rejected_index", index)
                w.key("raw")
                w.write(raw)
                w.key("error")
                error.write(to: &w)
                w.endObject()
            }
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(PayloadError) -> Contents {
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes, maxDepth: JSONParser.defaultMaxDepth + 4)
        } catch {
            throw PayloadError(.invalidPayload, "unreadable spool record: \(error)")
        }
        guard json["version"] == .number("1"), let route = json["route"]?.stringValue,
            let receivedAt = json["received_at"]?.stringValue, case .array(let items)? = json["items"]
        else {
            throw PayloadError(.invalidPayload, "spool record of an unknown shape")
        }
        var decoded = LegacyPayload.Decoded(isBatch: json["batch"] == .bool(true), items: [])
        for item in items {
            if case .number(let n)? = item["rejected_index"], let index = Int(n), let error = item["error"] {
                let code = PayloadError.Code(error["code"]?.stringValue ?? "invalid_payload")
                decoded.items.append(.rejected(
                    index: index, raw: item["raw"] ?? .null,
                    error: PayloadError(code, error["message"]?.stringValue ?? "", field: error["field"]?.stringValue)))
            } else if let guid = item["guid"]?.stringValue, let message = item["message"]?.stringValue,
                let provider = item["provider"]?.stringValue
            {
                decoded.items.append(.accepted(InboundMessage(
                    guid: guid, guidDerived: item["guid_derived"] == .bool(true), number: item["number"]?.stringValue,
                    message: message, date: item["date"]?.stringValue, hour: item["hour"]?.stringValue,
                    timeReceived: item["time_received"]?.stringValue, provider: provider,
                    channel: Channel(json: item["channel"]))))
            } else {
                throw PayloadError(.invalidPayload, "spool record item of an unknown shape")
            }
        }
        return Contents(decoded: decoded, receivedAt: receivedAt, route: route, instance: json["instance"]?.stringValue ?? "")
    }
}
