import ArgumentParser
import Foundation
import Logging
import RedisClient
import SMSCore
import SMSStore
import SMSWebhook
import SMSWorker

/// `smshook doctor`: what an operator most often gets wrong, checked against the environment and the live Redis.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the configuration and Redis: each check ok / warn / FAIL; exit 1 on any FAIL.")

    enum Level: String { case ok = "ok  ", warn = "warn", fail = "FAIL" }

    final class Report {
        var fails = 0
        func say(_ level: Level, _ text: String) {
            if level == .fail { self.fails += 1 }
            print("\(level.rawValue) \(text)")
        }
    }

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let report = Report()
        let serve: ServeConfiguration
        do {
            serve = try ServeConfiguration(environment: env, defaultInstanceID: "doctor")
            report.say(.ok, "serve configuration reads (reply rules from \(serve.repliesPath ?? "-"), sha256 \(serve.repliesSHA256.prefix(12)))")
        } catch {
            report.say(.fail, "serve configuration: \(error)")
            throw ExitCode.failure
        }
        Self.checkRoutes(serve, env: env, report: report)
        do {
            let worker = try WorkerConfiguration(environment: env, defaultWorkerID: "doctor")
            let placeholders = Self.placeholders(env, names: ["SMSMOBILEAPI_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "HTTP_PROVIDER_SECRET", "HTTP_PROVIDER_URL"])
            if worker.provider == .console {
                report.say(.warn, "SMSHOOK_PROVIDER=console: replies are printed, not sent")
            } else if !placeholders.isEmpty {
                report.say(.fail, "worker provider \(worker.provider.rawValue): \(placeholders.joined(separator: ", ")) still CHANGE-ME")
            } else {
                report.say(.ok, "worker provider \(worker.provider.rawValue) has its credentials")
            }
        } catch {
            report.say(.fail, "worker configuration: \(error)")
        }
        await Self.checkRedis(serve, report: report)
        print(report.fails == 0 ? "doctor: no failure" : "doctor: \(report.fails) failure(s)")
        if report.fails > 0 { throw ExitCode.failure }
    }

    static func placeholders(_ env: [String: String], names: [String]) -> [String] {
        names.filter { env[$0]?.contains("CHANGE-ME") == true }
    }

    static func checkRoutes(_ serve: ServeConfiguration, env: [String: String], report: Report) {
        let secrets = ["legacy": "SMSHOOK_LEGACY_SECRETS", "smsmobileapi": "SMSHOOK_SMSMOBILEAPI_SECRETS",
                       "twilio": "SMSHOOK_TWILIO_AUTH_TOKENS", "android-sms-gateway": "SMSHOOK_ASG_SECRETS"]
        for (route, auth) in serve.auth.all {
            let variable = secrets[route] ?? "?"
            if auth.mode == .none {
                report.say(.warn, "route \(route): authentication is OFF (SMSHOOK_AUTH=none or SMSHOOK_*_AUTH=none)")
            } else if auth.secrets.contains(where: { $0.contains("CHANGE-ME") }) {
                report.say(.fail, "route \(route): \(variable) is still a CHANGE-ME placeholder")
            } else if auth.secrets.isEmpty {
                report.say(.warn, "route \(route): no secret (\(variable)): every call to it gets 401; fine if you do not use it")
            } else if auth.mode == .twilio && (auth.publicBaseURL ?? "").isEmpty {
                report.say(.fail, "route twilio: SMSHOOK_PUBLIC_BASE_URL is needed to check Twilio signatures")
            } else if auth.mode == .twilio, let base = auth.publicBaseURL, base.contains("CHANGE-ME") {
                report.say(.fail, "route twilio: SMSHOOK_PUBLIC_BASE_URL is still a CHANGE-ME placeholder")
            } else {
                report.say(.ok, "route \(route): \(auth.mode.rawValue) with \(auth.secrets.count) secret(s)")
            }
        }
    }

    static func checkRedis(_ serve: ServeConfiguration, report: Report) async {
        var configuration = serve.redis
        configuration.connectTimeout = .seconds(3)
        configuration.commandTimeout = .seconds(3)
        var logger = Logger(label: "smshook.doctor")
        logger.logLevel = .critical
        let redis = RedisClient(configuration: configuration, logger: logger)
        defer { Task { await redis.shutdown() } }
        do {
            _ = try await redis.send("PING").orThrow()
            report.say(.ok, "Redis answers at \(configuration.redactedURL) with the configured credentials")
        } catch {
            report.say(.fail, "Redis at \(configuration.redactedURL): \(error)")
            return
        }
        do {
            let primaries = try await redis.primaries()
            if redis.isCluster {
                let covered = primaries.reduce(0) { $0 + $1.slots }
                report.say(covered == RedisClusterSlot.count ? .ok : .fail,
                    "Redis Cluster: \(primaries.count) primaries serve \(covered) of \(RedisClusterSlot.count) slots")
                let keys = KeySpace(prefix: serve.keyPrefix, shards: serve.shards)
                var perPrimary: [String: Int] = [:]
                for shard in keys.shards { perPrimary[try await redis.primary(ofKey: shard.replies), default: 0] += 1 }
                let spread = perPrimary.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                let even = Double(keys.shards.count) / Double(max(primaries.count, 1))
                let worst = perPrimary.values.map { abs(Double($0) - even) / even }.max() ?? 0
                report.say(worst <= 0.15 && perPrimary.count == primaries.count ? .ok : .warn,
                    "\(keys.shards.count) shards per primary: \(spread)" + (worst <= 0.15 ? "" : " (uneven: move slots or change SMSHOOK_SHARDS before going live)"))
            }
            let infos = try await [RedisArgument("server"), "memory", "persistence"].asyncMap { section in
                try await redis.onEachPrimary(RedisCommand("INFO", section)).map { Self.info(try $0.orThrow().string ?? "") }
            }
            for (i, primary) in primaries.enumerated() {
                let info = infos[0][i].merging(infos[1][i]) { $1 }.merging(infos[2][i]) { $1 }
                let on = redis.isCluster ? " on \(primary.endpoint)" : ""
                let version = info["redis_version"] ?? "?"
                let major = Int(version.split(separator: ".").first ?? "") ?? 0
                report.say(major >= 7 ? .ok : .fail, "Redis version \(version)\(on) (7 or later needed: script flags, BLMOVE, ACL selectors)")
                let policy = info["maxmemory_policy"] ?? "?"
                report.say(policy == "noeviction" ? .ok : .fail, "maxmemory-policy \(policy)\(on)" + (policy == "noeviction" ? "" : ": evicting dedup keys or jobs breaks the guarantees; set noeviction"))
                let aof = info["aof_enabled"] == "1"
                report.say(aof ? .ok : .warn, aof ? "AOF is on\(on)" : "AOF is off\(on): a Redis restart loses what was written since the last snapshot")
            }
        } catch {
            report.say(.warn, "cannot read INFO (\(error)); check version, maxmemory-policy and AOF as an admin")
        }
        do {
            let time = try await redis.send("TIME").orThrow().array ?? []
            let redisNow = Double(time.first?.string ?? "") ?? 0
            let skew = abs(Date().timeIntervalSince1970 - redisNow)
            let tolerance = Double(serve.auth.legacy.toleranceSeconds)
            let level: Level = skew >= tolerance ? .fail : (skew > tolerance / 2 ? .warn : .ok)
            report.say(level, String(format: "clock skew against Redis TIME %.1f s (signature tolerance %.0f s)", skew, tolerance))
        } catch {
            report.say(.warn, "cannot read Redis TIME: \(error)")
        }
    }

    /// `key:value` lines of an INFO section.
    static func info(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }) {
            guard let colon = line.firstIndex(of: ":"), !line.hasPrefix("#") else { continue }
            out[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return out
    }
}

extension Array {
    /// `map` with an async transform, one element after another.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
