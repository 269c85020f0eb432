import Hummingbird
import NIOCore
import SMSCore

/// Builds JSON responses from prepared JSON text.
enum JSONResponse {
    static func ok(_ json: String) -> Response { self.make(status: .ok, json) }

    /// 200 with a JSON body already encoded as UTF-8.
    static func ok(bytes json: [UInt8]) -> Response { self.make(status: .ok, body: ByteBuffer(bytes: json)) }

    static func make(status: HTTPResponse.Status, _ json: String, retryAfter: Int? = nil) -> Response {
        self.make(status: status, body: ByteBuffer(string: json), retryAfter: retryAfter)
    }

    private static func make(status: HTTPResponse.Status, body: ByteBuffer, retryAfter: Int? = nil) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    /// `{"status":"error","error":{...}}` with the error's status; `Retry-After` on 503.
    static func error(_ error: PayloadError, retryAfter: Int = 2, extra summary: IngestSummary? = nil) -> Response {
        var json = error.json
        if let summary {  // add the per-item results of a refused batch
            json.removeLast()
            let results = summary.json
            let start = results.range(of: ",\"results\":")!.lowerBound
            json += results[start...]
        }
        let status = HTTPResponse.Status(code: error.httpStatus)
        return self.make(status: status, json, retryAfter: error.code == .unavailable ? retryAfter : nil)
    }
}

/// Turns errors thrown by the router (unknown route, wrong method, framework errors) into JSON errors.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let code: PayloadError.Code =
                switch error.status.code {
                case 404: .notFound
                case 405: .methodNotAllowed
                case 413: .bodyTooLarge
                case 400: .invalidJSON
                default: error.status.code >= 500 ? .internal : .invalidPayload
                }
            let message = error.body ?? error.status.reasonPhrase
            return JSONResponse.make(status: error.status, PayloadError(code, message).json)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(error)"])
            return JSONResponse.make(status: .internalServerError, PayloadError(.internal, "internal error").json)
        }
    }
}
