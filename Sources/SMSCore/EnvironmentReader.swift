/// A configuration value that cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let variable: String
    public let message: String
    public init(variable: String, message: String) {
        self.variable = variable
        self.message = message
    }
    public var description: String { "\(self.variable): \(self.message)" }
}

public struct EnvironmentReader: Sendable {
    public let env: [String: String]
    public init(_ env: [String: String]) { self.env = env }

    public func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = self.env[name], !text.isEmpty else { return value }
        guard let n = Int(text), range.contains(n) else {
            throw ConfigurationError(variable: name, message: "expected a whole number in \(range), got '\(text)'")
        }
        return n
    }
}

extension EnvironmentReader {
    public func double(_ name: String, default value: Double, range: ClosedRange<Double>) throws -> Double {
        guard let text = self.env[name], !text.isEmpty else { return value }
        guard let n = Double(text), range.contains(n) else {
            throw ConfigurationError(variable: name, message: "expected a number in \(range), got '\(text)'")
        }
        return n
    }

    public func string(_ name: String, default value: String) -> String {
        guard let text = self.env[name], !text.isEmpty else { return value }
        return text
    }

    public func required(_ name: String, for purpose: String) throws -> String {
        guard let text = self.env[name], !text.isEmpty else {
            throw ConfigurationError(variable: name, message: "required for \(purpose)")
        }
        return text
    }
}
