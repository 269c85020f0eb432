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
        let json = try self.object(body)
        guard let type = json["type"]?.stringValue else {
            throw PayloadError(.missingField, "type is required", field: "type")
        }
        guard type == "sms.received" else { return .other(type: type, id: json["id"]?.stringValue) }
        guard let data = json["data"], case .object = data else {
            throw PayloadError(.missingField, "data must be an object", field: "data")
        }
        let guid = try self.id(data["guid"], field: "data.guid", limits: limits)
        return .message(InboundMessage(
            guid: guid, number: try MessageValidator.number(data["from"], field: "data.from", limits: limits),
            message: try MessageValidator.messageText(data["message"], field: "data.message", limits: limits),
            timeReceived: try MessageValidator.optionalText(data["received_at"], field: "data.received_at"),
            provider: "smsmobileapi"))
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
            message: body, provider: "twilio")
    }

    /// android-sms-gateway: `{deviceId, event, id, payload: {messageId, message, phoneNumber, simNumber, receivedAt}, webhookId}`.
    /// The key is `payload.messageId`: the same SMS may come again with a new event `id`.
    public static func androidSMSGateway(_ body: [UInt8], limits: IngestLimits) throws(PayloadError) -> Event {
        let json = try self.object(body)
        guard let event = json["event"]?.stringValue else {
            throw PayloadError(.missingField, "event is required", field: "event")
        }
        guard event == "sms:received" else { return .other(type: event, id: json["id"]?.stringValue) }
        guard let payload = json["payload"], case .object = payload else {
            throw PayloadError(.missingField, "payload must be an object", field: "payload")
        }
        let id = try self.id(payload["messageId"], field: "payload.messageId", limits: limits)
        return .message(InboundMessage(
            guid: "asg:" + id,
            number: try MessageValidator.number(payload["phoneNumber"], field: "payload.phoneNumber", limits: limits),
            message: try MessageValidator.messageText(payload["message"], field: "payload.message", limits: limits),
            timeReceived: try MessageValidator.optionalText(payload["receivedAt"], field: "payload.receivedAt"),
            provider: "android-sms-gateway"))
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
