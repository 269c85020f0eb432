import Foundation
import Hummingbird
import Mustache
import NIOCore

/// Renders console pages: the embedded templates, security headers on every answer.
enum ConsoleView {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        let templates = [
            ("header", ConsoleTemplates.header), ("footer", ConsoleTemplates.footer), ("rows", ConsoleTemplates.rows),
            ("login", ConsoleTemplates.login), ("dashboard", ConsoleTemplates.dashboard), ("messages", ConsoleTemplates.messages),
            ("timeline", ConsoleTemplates.timeline), ("record", ConsoleTemplates.record), ("dead", ConsoleTemplates.dead),
            ("optouts", ConsoleTemplates.optouts), ("config", ConsoleTemplates.config),
        ]
        for (name, text) in templates {
            // the templates are constants checked by the tests; one that does not parse renders as an error page
            if let template = try? MustacheTemplate(string: text) { library.register(template, named: name) }
        }
        return library
    }()

    /// Headers of every console answer: no caching, no framing, only our own scripts and styles.
    static var securityHeaders: HTTPFields {
        [
            .cacheControl: "no-store",
            .init("Content-Security-Policy")!: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            .init("X-Frame-Options")!: "DENY", .init("X-Content-Type-Options")!: "nosniff", .init("Referrer-Policy")!: "no-referrer",
        ]
    }

    static func page(_ name: String, _ context: [String: Any], status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        let html = self.library.render(context, withTemplate: name) ?? "<!doctype html><title>error</title><p>The page \(name) could not be rendered.</p>"
        var headers = self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        for field in extra { headers.append(field) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = self.securityHeaders
        headers[.contentType] = type
        headers[.cacheControl] = "max-age=300"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = self.securityHeaders
        headers[.location] = location
        for field in extra { headers.append(field) }
        return Response(status: .seeOther, headers: headers)
    }

    /// An inline SVG line of per-minute counts (numbers only: safe to embed unescaped).
    static func sparkline(_ values: [Int], label: String, width: Int = 360, height: Int = 60) -> String {
        let top = max(values.max() ?? 0, 1)
        let step = values.count > 1 ? Double(width) / Double(values.count - 1) : 0
        let points = values.enumerated().map { i, v in
            String(format: "%.1f,%.1f", Double(i) * step, Double(height - 4) - Double(v) / Double(top) * Double(height - 8))
        }.joined(separator: " ")
        let safe = label.filter { $0.isLetter || $0.isNumber || $0 == " " || $0 == "," || $0 == "." }
        return "<svg role=\"img\" aria-label=\"\(safe)\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">"
            + "<line class=\"axis\" x1=\"0\" y1=\"\(height - 4)\" x2=\"\(width)\" y2=\"\(height - 4)\"/>"
            + "<polyline class=\"line\" points=\"\(points)\"/></svg>"
    }

    /// An ISO 8601 time from a stream id's milliseconds.
    static func time(milliseconds: Int64) -> String {
        let seconds = Int(milliseconds / 1000)
        let date = Date(timeIntervalSince1970: TimeInterval(seconds))
        return date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon))
    }
}
