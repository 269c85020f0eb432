import RedisClient
import Testing

@Suite struct RedisConfigurationTests {
    @Test func parsesTCPURLWithUserPasswordAndDatabase() throws {
        let c = try RedisConfiguration(url: "redis://alice:s%40cret@redis.internal:6380/3")
        #expect(c.endpoint == .tcp(host: "redis.internal", port: 6380))
        #expect(c.username == "alice")
        #expect(c.password == "s@cret")
        #expect(c.database == 3)
        #expect(c.redactedURL == "redis://alice:***@redis.internal:6380/3")
    }

    @Test func parsesPasswordOnlyAndDefaults() throws {
        let c = try RedisConfiguration(url: "redis://:pw@127.0.0.1")
        #expect(c.endpoint == .tcp(host: "127.0.0.1", port: 6379))
        #expect(c.username == nil)
        #expect(c.password == "pw")
        #expect(c.database == 0)
    }

    @Test func parsesIPv6AndUnixSocket() throws {
        #expect(try RedisConfiguration(url: "redis://[::1]:7000/1").endpoint == .tcp(host: "::1", port: 7000))
        let unix = try RedisConfiguration(url: "unix:///run/redis/redis.sock?db=2")
        #expect(unix.endpoint == .unix(path: "/run/redis/redis.sock"))
        #expect(unix.database == 2)
    }

    @Test(arguments: ["http://x", "redis://host:notaport", "redis://host:70000", "redis:///1", "unix://relative", "redis://h:1/x"])
    func rejectsBadURLs(url: String) {
        #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
        do {
            _ = try RedisConfiguration(url: url)
        } catch let error as RedisError {
            #expect(error.code == .invalidURL)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test(arguments: [
        "redis://:hunter2secret@host:notaport", "redis://user:hunter2secret@host:70000", "http://:hunter2secret@x",
        "redis://:hunter2secret@[::1", "unix://relative?password=hunter2secret", "redis://:hunter2secret@host:1/x",
    ])
    func errorsNeverShowThePassword(url: String) {
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("accepted \(url)")
        } catch {
            #expect(!"\(error)".contains("hunter2secret"), "\(error)")
            #expect("\(error)".contains("***"), "\(error)")
        }
        do {
            _ = try RedisConfiguration(environment: ["REDIS_URL": url])
        } catch {
            #expect(!"\(error)".contains("hunter2secret"), "\(error)")
        }
    }

    @Test func tlsFromTheURLAndTheEnvironment() throws {
        let plain = try RedisConfiguration(environment: ["REDIS_URL": "redis://h:6380"])
        #expect(plain.tls == nil)
        let secure = try RedisConfiguration(environment: [
            "REDIS_URL": "rediss://:pw@10.0.0.5:6380/1", "REDIS_TLS_CA_FILE": "/etc/ca.pem",
            "REDIS_TLS_CERT_FILE": "/etc/c.pem", "REDIS_TLS_KEY_FILE": "/etc/k.pem", "REDIS_TLS_SERVER_NAME": "redis.internal",
        ])
        #expect(secure.tls == .init(caFile: "/etc/ca.pem", certificateFile: "/etc/c.pem", keyFile: "/etc/k.pem", serverName: "redis.internal"))
        #expect(secure.sentinelTLS == nil)
        #expect(secure.redactedURL == "rediss://:***@10.0.0.5:6380/1")
        // sentinels: the URL is not used, REDIS_TLS turns TLS on for the data nodes, REDIS_SENTINEL_TLS for the sentinels
        let sentinels = try RedisConfiguration(environment: [
            "REDIS_SENTINELS": "s1:26379", "REDIS_MASTER_NAME": "m", "REDIS_TLS": "1", "REDIS_SENTINEL_TLS": "1",
            "REDIS_TLS_CA_FILE": "/etc/ca.pem",
        ])
        #expect(sentinels.tls?.caFile == "/etc/ca.pem")
        #expect(sentinels.sentinelTLS?.caFile == "/etc/ca.pem")
    }

    @Test(arguments: [
        (["REDIS_TLS_CA_FILE": "/etc/ca.pem"], "REDIS_TLS_CA_FILE"),
        (["REDIS_URL": "rediss://:hunter2secret@h", "REDIS_TLS_CERT_FILE": "/c.pem"], "REDIS_TLS_KEY_FILE"),
        (["REDIS_URL": "rediss://:hunter2secret@h", "REDIS_TLS": "maybe"], "REDIS_TLS"),
        (["REDIS_URL": "rediss://:hunter2secret@h", "REDIS_COMMAND_TIMEOUT_MS": "-5"], "REDIS_COMMAND_TIMEOUT_MS"),
    ])
    func tlsMistakesNameTheVariableNeverThePassword(env: [String: String], variable: String) {
        do {
            _ = try RedisConfiguration(environment: env)
            Issue.record("accepted \(env)")
        } catch let error as RedisError {
            #expect(error.message.contains(variable), "\(error.message)")
            #expect(!error.message.contains("hunter2secret"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func encodesCommandsAsRESP() {
        let command = RedisCommand("SET", "k", RedisArgument(bytes: [0, 255]))
        #expect(command.encoded == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n".utf8) + [0, 255, 13, 10])
        #expect(command.name == "SET")
    }

    @Test func scriptSHA1MatchesRedis() {
        // redis-cli SCRIPT LOAD "return 1" → e0e1f9fabfc9d4800c877a703b823ac0578ff8db
        #expect(RedisScript("return 1").sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    }
}
