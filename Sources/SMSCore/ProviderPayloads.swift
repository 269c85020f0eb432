/// Inbound formats other than the legacy one, each normalised into `InboundMessage`. Pure.
///
/// Dedup keys live in each provider's key space: SMSMobileAPI ids as they are (legacy and V2 share them),
/// Twilio `twilio:<MessageSid>`, android-sms-gateway `asg:<payload.messageId>`.
public enum ProviderPayloads {
    /// A webhook that carries an SMS, or another event to acknowledge and audit.
    public enum Event: Sendable {
        case message(InboundMessage)
        case other(type: String, id: String?)
    }

    /// SMSMobileAPI Webhook V2: `{id, type, api_version, created_at, occurred_at, data}`;
    /// `sms.received` carries `data: {guid, from, message, received_at, alias, device_id}`.
    public static func smsMobileAPIV2(_ body: [UInt8], limits: IngestLimits) throws(PayloadError) -> Event {
        let (type, id, message, _) = try self.envelope(body, typeField: "type", messageType: "sms.received", messageField: "data")
        guard let data = message else { return .other(type: type, id: id) }
        let guid = try self.id(data["guid"], field: "data.guid", limits: limits)
        try MessageValidator.checkNotReserved(guid, field: "data.guid")
        return .message(InboundMessage(
            guid: guid, number: try MessageValidator.number(data["from"], field: "data.from", limits: limits),
            message: try MessageValidator.messageText(data["message"], field: "data.message", limits: limits),
            timeReceived: try MessageValidator.optionalText(data["received_at"], field: "data.received_at"),
            provider: "smsmobileapi",
            channel: Channel(
                provider: "smsmobileapi", device: data["device_id"]?.scalarText, sim: (data["sim"] ?? data["port"])?.scalarText,
                alias: data["alias"]?.scalarText)))
    }

    /// Twilio's form: `MessageSid, AccountSid, From, To, Body, NumMedia, ...`.
    public static func twilio(_ form: [(String, String)], limits: IngestLimits) throws(PayloadError) -> InboundMessage {
        func field(_ name: String) -> String? { form.last { $0.0 == name }?.1 }
        guard let sid = field("MessageSid") ?? field("SmsMessageSid"), !sid.isEmpty else {
            throw PayloadError(.missingField, "MessageSid is required", field: "MessageSid")
        }
        let guid = "twilio:" + sid
        try MessageValidator.checkGUID(guid, field: "MessageSid", limits: limits)
        let body = try MessageValidator.messageText(field("Body").map { .string($0) } ?? .string(""), field: "Body", limits: limits)
        return InboundMessage(
            guid: guid, number: try MessageValidator.number(field("From").map { .string($0) }, field: "From", limits: limits),
            message: body, provider: "twilio",
            channel: Channel(provider: "twilio", account: field("AccountSid"), service: field("MessagingServiceSid"), number: field("To")))
    }

    /// android-sms-gateway: `{deviceId, event, id, payload: {messageId, message, phoneNumber, simNumber, receivedAt}, webhookId}`.
    /// The key is `payload.messageId`: the same SMS may come again with a new event `id`.
    public static func androidSMSGateway(_ body: [UInt8], limits: IngestLimits) throws(PayloadError) -> Event {
        let (event, eventID, message, envelope) = try self.envelope(body, typeField: "event", messageType: "sms:received", messageField: "payload")
        guard let payload = message else { return .other(type: event, id: eventID) }
        let id = try self.id(payload["messageId"], field: "payload.messageId", limits: limits)
        return .message(InboundMessage(
            guid: "asg:" + id,
            number: try MessageValidator.number(payload["phoneNumber"], field: "payload.phoneNumber", limits: limits),
            message: try MessageValidator.messageText(payload["message"], field: "payload.message", limits: limits),
            timeReceived: try MessageValidator.optionalText(payload["receivedAt"], field: "payload.receivedAt"),
            provider: "android-sms-gateway",
            channel: Channel(
                provider: "android-sms-gateway", device: envelope["deviceId"]?.scalarText, sim: payload["simNumber"]?.scalarText)))
    }

    /// An event envelope: its type (at `typeField`), its `id`, and the object at `messageField` when the type is
    /// `messageType` (nil for any other event, to acknowledge).
    static func envelope(_ body: [UInt8], typeField: String, messageType: String, messageField: String)
        throws(PayloadError) -> (type: String, id: String?, message: JSONValue?, envelope: JSONValue)
    {
        let json = try self.object(body)
        guard let type = json[typeField]?.stringValue else {
            throw PayloadError(.missingField, "\(typeField) is required", field: typeField)
        }
        guard type == messageType else { return (type, json["id"]?.stringValue, nil, json) }
        guard let message = json[messageField], case .object = message else {
            throw PayloadError(.missingField, "\(messageField) must be an object", field: messageField)
        }
        return (type, json["id"]?.stringValue, message, json)
    }

    static func object(_ body: [UInt8]) throws(PayloadError) -> JSONValue {
        let json: JSONValue
        do {
            json = try JSONParser.parse(body)
        } catch {
            throw PayloadError(.invalidJSON, "malformed JSON: \(error)")
        }
        guard case .object = json else { throw PayloadError(.invalidPayload, "expected a JSON object, got \(json.typeName)") }
        return json
    }

    static func id(_ value: JSONValue?, field: String, limits: IngestLimits) throws(PayloadError) -> String {
        guard let id = try MessageValidator.optionalText(value, field: field), !id.isEmpty else {
            throw PayloadError(.missingField, "\(field) is required", field: field)
        }
        try MessageValidator.checkGUID(id, field: field, limits: limits)
        return id
    }
}
