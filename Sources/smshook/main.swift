import ArgumentParser
import Foundation
import SMSSystem

// Before anything runs on another thread, so that `serve`'s threads share one malloc arena (`Allocator`).
if CommandLine.arguments.dropFirst().first == "serve" {
    Allocator.configureServe(environment: ProcessInfo.processInfo.environment)
}

/// From an async function `main()` resolves to `AsyncParsableCommand`'s (from top-level code, to the synchronous one).
func runCommand() async { await SMSHook.main() }
await runCommand()
