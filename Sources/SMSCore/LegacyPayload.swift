/// SMSMobileAPI's legacy webhook: one message object, or `{"messages": [message, ...]}`.
public enum LegacyPayload {
    public static let provider = "smsmobileapi"

    /// What a request body holds once each item is validated.
    public struct Decoded: Sendable {
        public var isBatch: Bool
        public var items: [Item]

        public init(isBatch: Bool, items: [Item]) {
            self.isBatch = isBatch
            self.items = items
        }

        /// Every accepted message arrived through `channel` (the legacy format carries none of its own).
        public mutating func assign(_ channel: Channel) {
            for i in self.items.indices {
                if case .accepted(var message) = self.items[i] {
                    message.channel = channel
                    self.items[i] = .accepted(message)
                }
            }
        }
    }

    public enum Item: Sendable {
        case accepted(InboundMessage)
        /// An invalid item: its position, the raw JSON kept so it is not lost, and why.
        case rejected(index: Int, raw: JSONValue, error: PayloadError)
    }

    /// Parses and validates a body. Throws for problems with the whole request (bad JSON, empty or oversized
    /// batch); problems with single messages become `.rejected` items.
    public static func decode(_ body: some Collection<UInt8>, limits: IngestLimits) throws(PayloadError) -> Decoded {
        let json: JSONValue
        do {
            json = try JSONParser.parse(body)
        } catch {
            throw PayloadError(.invalidJSON, "malformed JSON: \(error)")
        }
        return try self.decode(json, limits: limits)
    }

    public static func decode(_ json: JSONValue, limits: IngestLimits) throws(PayloadError) -> Decoded {
        guard case .object = json else {
            throw PayloadError(.invalidPayload, "expected a JSON object, got \(json.typeName)")
        }
        guard let messages = json["messages"] else {
            return Decoded(isBatch: false, items: [self.item(json, index: 0, limits: limits)])
        }
        guard case .array(let list) = messages else {
            throw PayloadError(.invalidType, "messages must be an array, got \(messages.typeName)", field: "messages")
        }
        guard !list.isEmpty else { throw PayloadError(.emptyBatch, "messages is empty", field: "messages") }
        guard list.count <= limits.maxBatch else {
            throw PayloadError(
                .batchTooLarge, "batch of \(list.count) messages is over the limit of \(limits.maxBatch)",
                field: "messages")
        }
        return Decoded(isBatch: true, items: list.enumerated().map { self.item($1, index: $0, limits: limits) })
    }

    private static func item(_ json: JSONValue, index: Int, limits: IngestLimits) -> Item {
        do {
            return .accepted(try MessageValidator.legacyMessage(json, limits: limits))
        } catch {
            return .rejected(index: index, raw: json, error: error)
        }
    }
}
