import ArgumentParser
import Foundation
import SMSCore

struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console", abstract: "The operator console's users.", subcommands: [HashPassword.self])

    struct HashPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hash-password",
            abstract: "Read a password on standard input; print its scrypt hash for SMSHOOK_CONSOLE_USERS (name:hash).")

        func run() async throws {
            guard let line = readLine(strippingNewline: true), line.count >= 12 else {
                throw ValidationError("give a password of at least 12 characters on standard input")
            }
            var generator = SystemRandomNumberGenerator()
            let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
            print(try PasswordHash(password: line, salt: salt))
        }
    }
}
