import Foundation
import SMSCore

extension ReplyConfig {
    /// Loads from `path`, or from the first of `ReplyConfig.defaultPaths` that exists.
    public static func load(path: String?) throws -> (ReplyConfig, String) {
        let file = try self.loadFile(path: path)
        return (file.config, file.path)
    }

    public static func loadFile(path: String?) throws -> File {
        let candidates = path.map { [$0] } ?? self.defaultPaths
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate) {
            return try File(text: try String(contentsOfFile: candidate, encoding: .utf8), path: candidate)
        }
        throw ReplyConfigError(
            message: "no config file at \(candidates.joined(separator: " or ")); set SMSHOOK_CONFIG to config/smshook.yaml")
    }
}
