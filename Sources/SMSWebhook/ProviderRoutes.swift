import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import SMSCore

/// Provider formats: SMSMobileAPI V2, Twilio, android-sms-gateway. Each is authenticated, normalised and stored
/// through the same ingest transaction as the legacy route.
extension WebhookRoutes {
    func addProviderRoutes(to router: Router<some RequestContext>) {
        router.post("/webhooks/smsmobileapi") { request, context in
            await self.jsonProviderWebhook(
                request, route: "smsmobileapi", auth: self.configuration.auth.smsMobileAPI, status: .accepted,
                decode: ProviderPayloads.smsMobileAPIV2, logger: context.logger)
        }
        router.post("/webhooks/android-sms-gateway") { request, context in
            await self.jsonProviderWebhook(
                request, route: "android-sms-gateway", auth: self.configuration.auth.androidSMSGateway, status: .ok,
                decode: ProviderPayloads.androidSMSGateway, logger: context.logger)
        }
        router.post("/webhooks/twilio") { request, context in
            await self.twilioWebhook(request, logger: context.logger)
        }
    }

    func jsonProviderWebhook(
        _ request: Request, route: String, auth: WebhookAuth, status: HTTPResponse.Status,
        decode: (_ body: [UInt8], _ limits: IngestLimits) throws(PayloadError) -> ProviderPayloads.Event, logger: Logger
    ) async -> Response {
        do throws(PayloadError) {
            let body = Array(try await self.readBody(request, form: false).readableBytesView)
            try self.authenticate(request, route: route, auth: auth, body: body, form: [], logger: logger)
            let event: ProviderPayloads.Event
            do {
                event = try decode(body, self.configuration.limits)
            } catch {
                return await self.reject(body: body, error: error, logger: logger)
            }
            switch event {
            case .message(let message):
                switch try await self.store(.init(isBatch: false, items: [.accepted(message)]), route: route, logger: logger) {
                case .stored(let summary): return JSONResponse.make(status: status, summary.json)
                case .spooled(let n, let r): return JSONResponse.make(status: status, Self.spooledJSON(accepted: n, rejected: r))
                }
            case .other(let type, let id):
                try await self.ingest.recordEvent(provider: route, type: type, id: id, raw: body, logger: logger)
                let json = JSONValue.object([("status", .string("acknowledged")), ("event", .string(type))]).json
                return JSONResponse.make(status: status, json)
            }
        } catch {
            return JSONResponse.error(error, retryAfter: self.configuration.retryAfterSeconds)
        }
    }

    func twilioWebhook(_ request: Request, logger: Logger) async -> Response {
        do throws(PayloadError) {
            let body = Array(try await self.readBody(request, form: true).readableBytesView)
            guard let text = String(validating: body, as: UTF8.self), let form = FormEncoding.decode(text) else {
                throw PayloadError(.invalidPayload, "malformed form body")
            }
            try self.authenticate(request, route: "twilio", auth: self.configuration.auth.twilio, body: body, form: form, logger: logger)
            let message: InboundMessage
            do {
                message = try ProviderPayloads.twilio(form, limits: self.configuration.limits)
            } catch {
                return await self.reject(body: body, error: error, logger: logger)
            }
            _ = try await self.store(.init(isBatch: false, items: [.accepted(message)]), route: "twilio", logger: logger)
            return Response(
                status: .ok, headers: [.contentType: "text/xml"],
                body: .init(byteBuffer: ByteBuffer(string: #"<?xml version="1.0" encoding="UTF-8"?><Response/>"#)))
        } catch {
            return JSONResponse.error(error, retryAfter: self.configuration.retryAfterSeconds)
        }
    }

    /// Refuses the request unless `auth` accepts it; counts failures by route and reason. Never logs secrets.
    func authenticate(
        _ request: Request, route: String, auth: WebhookAuth, body: [UInt8], form: [(String, String)], logger: Logger
    ) throws(PayloadError) {
        if auth.mode == .none { return }
        var headers: [String: String] = [:]
        let names = auth.headerNames
        for field in request.headers where names.contains(field.name.canonicalName) {
            headers[field.name.canonicalName] = field.value
        }
        let pieces = WebhookAuth.Request(headers: headers, body: body, pathAndQuery: request.uri.description, form: form)
        guard let failure = auth.verify(pieces, now: Int(Date().timeIntervalSince1970)) else { return }
        Counter(label: "smshook_auth_failures_total", dimensions: [("route", route), ("reason", failure.reason)]).increment()
        logger.warning("webhook refused", metadata: ["route": "\(route)", "auth.reason": "\(failure.reason)"])
        throw PayloadError(.unauthorized, failure.message)
    }

    /// A provider message that fails validation: kept in the rejected stream, answered with its error.
    func reject(body: [UInt8], error: PayloadError, logger: Logger) async -> Response {
        let raw = (try? JSONParser.parse(body)) ?? .string(String(decoding: body, as: UTF8.self))
        do throws(PayloadError) {
            _ = try await self.store(.init(isBatch: false, items: [.rejected(index: 0, raw: raw, error: error)]), route: "rejected", logger: logger)
        } catch let storage {
            return JSONResponse.error(storage, retryAfter: self.configuration.retryAfterSeconds)
        }
        return JSONResponse.error(error)
    }
}
