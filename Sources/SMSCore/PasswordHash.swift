import Crypto
import Foundation
import _CryptoExtras

/// A console user's password as stored: `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>` (never the password). Pure:
/// the salt is the caller's (`smshook console hash-password` reads it from the kernel).
public struct PasswordHash: Sendable, Hashable, CustomStringConvertible {
    public let rounds: Int
    public let blockSize: Int
    public let parallelism: Int
    public let salt: [UInt8]
    public let hash: [UInt8]

    /// scrypt N = 2^15, r = 8, p = 1 (32 MiB, about 0.1 s here): the interactive-login parameters RFC 7914 suggests.
    public static let defaultRounds = 1 << 15

    /// Reads the stored form; nil when it is not one (a plaintext password is refused by the caller).
    public init?(_ text: String) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
            n >= 1024, n <= 1 << 20, n & (n - 1) == 0, (1...32).contains(r), (1...16).contains(p),
            let salt = Data(base64Encoded: parts[4]), salt.count >= 16,
            let hash = Data(base64Encoded: parts[5]), (16...64).contains(hash.count)
        else { return nil }
        self.rounds = n
        self.blockSize = r
        self.parallelism = p
        self.salt = Array(salt)
        self.hash = Array(hash)
    }

    /// Hashes `password` with `salt` (16 random bytes or more).
    public init(password: String, salt: [UInt8], rounds: Int = Self.defaultRounds) throws {
        self.rounds = rounds
        self.blockSize = 8
        self.parallelism = 1
        self.salt = salt
        self.hash = try Self.derive(password, salt: salt, rounds: rounds, blockSize: 8, parallelism: 1, count: 32)
    }

    public var description: String {
        "scrypt$\(self.rounds)$\(self.blockSize)$\(self.parallelism)$\(Data(self.salt).base64EncodedString())$\(Data(self.hash).base64EncodedString())"
    }

    /// True when `password` hashes to this, compared in constant time.
    public func verify(_ password: String) -> Bool {
        guard let candidate = try? Self.derive(
            password, salt: self.salt, rounds: self.rounds, blockSize: self.blockSize, parallelism: self.parallelism,
            count: self.hash.count)
        else { return false }
        var diff: UInt8 = 0
        for (a, b) in zip(candidate, self.hash) { diff |= a ^ b }
        return diff == 0 && candidate.count == self.hash.count
    }

    static func derive(_ password: String, salt: [UInt8], rounds: Int, blockSize: Int, parallelism: Int, count: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: count, rounds: rounds, blockSize: blockSize,
            parallelism: parallelism, maxMemory: 256 << 20)
        return key.withUnsafeBytes { Array($0) }
    }
}
