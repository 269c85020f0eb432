/// Why a request or one message in it was refused. Maps to `{"status":"error","error":{code,message,field}}`.
public struct PayloadError: Error, Sendable, Hashable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public var description: String { self.rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }

        public static let invalidJSON = Code("invalid_json")
        public static let invalidPayload = Code("invalid_payload")
        public static let missingField = Code("missing_field")
        public static let invalidType = Code("invalid_type")
        public static let tooLong = Code("too_long")
        public static let invalidGUID = Code("invalid_guid")
        public static let invalidNumber = Code("invalid_number")
        public static let emptyBatch = Code("empty_batch")
        public static let batchTooLarge = Code("batch_too_large")
        public static let bodyTooLarge = Code("body_too_large")
        public static let unsupportedMediaType = Code("unsupported_media_type")
        public static let unavailable = Code("unavailable")
        public static let unauthorized = Code("unauthorized")
        public static let requestTimeout = Code("request_timeout")
        public static let notFound = Code("not_found")
        public static let methodNotAllowed = Code("method_not_allowed")
        public static let `internal` = Code("internal_error")
        /// Send API: the number has opted out (409).
        public static let optedOut = Code("opted_out")
        /// Send API: an `Idempotency-Key` used before with other parameters (422).
        public static let idempotencyKeyReused = Code("idempotency_key_reused")
    }

    public let code: Code
    public let message: String
    public let field: String?

    public init(_ code: Code, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    /// The HTTP status this error is answered with.
    public var httpStatus: Int {
        switch self.code {
        case .invalidJSON: return 400
        case .bodyTooLarge, .batchTooLarge: return 413
        case .unsupportedMediaType: return 415
        case .unauthorized: return 401
        case .requestTimeout: return 408
        case .unavailable: return 503
        case .notFound: return 404
        case .methodNotAllowed: return 405
        case .optedOut: return 409
        case .internal: return 500
        default: return 422
        }
    }

    /// `{"status":"error","error":{"code":...,"message":...,"field":...}}`
    public var json: String {
        var w = JSONWriter()
        w.beginObject()
        w.field("status", "error")
        w.key("error")
        self.write(to: &w)
        w.endObject()
        return w.text
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.field("code", self.code.rawValue)
        w.field("message", self.message)
        w.field("field", ifPresent: self.field)
        w.endObject()
    }
}
