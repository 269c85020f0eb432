@testable import RedisClient
import Testing

/// The connection's life as a table of events and actions, without a server.
struct StateMachineTests {
    typealias Machine = RedisConnectionStateMachine<String, Int>
    let t0 = ContinuousClock.now
    let down = RedisError(.connectionFailed, "refused")

    func machine() -> Machine { Machine(initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(200)) }

    @Test func firstRequestConnectsOthersWaitThenAllAreWritten() {
        var m = self.machine()
        guard case .connect = m.request(1, now: t0) else { Issue.record("first request should connect"); return }
        guard case .wait = m.request(2, now: t0) else { Issue.record("second should wait"); return }
        guard case .write("ch1", let waiting) = m.connected("ch1") else { Issue.record("connected should write"); return }
        #expect(waiting == [1, 2])
        guard case .write("ch1") = m.request(3, now: t0) else { Issue.record("ready writes"); return }
    }

    @Test func aFailedConnectFailsTheWaitersAndNewRequestsFailFastUntilTheBackoffEnds() {
        var m = self.machine()
        _ = m.request(1, now: t0)
        _ = m.request(2, now: t0)
        #expect(m.connectFailed(self.down, now: t0) == [1, 2])
        #expect(m.consecutiveFailures == 1)
        guard case .fail(let e) = m.request(3, now: t0 + .milliseconds(49)) else { Issue.record("should fail fast"); return }
        #expect(e == self.down)
        guard case .connect = m.request(4, now: t0 + .milliseconds(50)) else { Issue.record("should retry"); return }
        // the backoff doubles up to its cap, and resets on success
        #expect(m.connectFailed(self.down, now: t0) == [4])
        #expect(m.backoff == .milliseconds(200))
        _ = m.connectFailed(self.down, now: t0)
        guard case .fail = m.request(5, now: t0 + .milliseconds(99)) else { Issue.record("100 ms backoff"); return }
        _ = m.request(6, now: t0 + .milliseconds(100))
        #expect(m.consecutiveFailures == 2)  // the third report came while backing off: not a connect of ours
        _ = m.connected("ch2")
        #expect(m.backoff == .milliseconds(50))
        #expect(m.consecutiveFailures == 0)
    }

    @Test func aClosedChannelMakesTheNextRequestReconnectAtOnce() {
        var m = self.machine()
        _ = m.request(1, now: t0)
        _ = m.connected("ch1")
        m.channelClosed("other")  // not ours: ignored
        guard case .write("ch1") = m.request(2, now: t0) else { Issue.record("still ready"); return }
        m.channelClosed("ch1")
        guard case .connect = m.request(3, now: t0) else { Issue.record("should reconnect"); return }
    }

    @Test func closeFailsWaitersClosesTheChannelAndRefusesLaterRequests() {
        var m = self.machine()
        _ = m.request(1, now: t0)
        guard case .close(nil, let failing) = m.close() else { Issue.record("close while connecting"); return }
        #expect(failing == [1])
        guard case .closeChannel("late") = m.connected("late") else { Issue.record("a late connect is closed"); return }
        guard case .fail(let e) = m.request(2, now: t0) else { Issue.record("closed refuses"); return }
        #expect(e.code == .closed)
        guard case .none = m.close() else { Issue.record("second close is a no-op"); return }

        var r = self.machine()
        _ = r.request(1, now: t0)
        _ = r.connected("ch1")
        guard case .close("ch1", let none) = r.close() else { Issue.record("close when ready"); return }
        #expect(none.isEmpty)
    }
}

/// hiredis's reader on what a hostile or broken server could send: an error, never a crash or a huge allocation.
struct ReplyReaderTests {
    @Test func repliesReadWholeOrByteByByteAreTheSame() throws {
        let bytes = Array("+OK\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$1\r\na\r\n*1\r\n-ERR x\r\n".utf8)
        let expected: [RedisReply] = [.status("OK"), .integer(42), .bulk(Array("hello".utf8)), .null,
                                      .array([.bulk(Array("a".utf8)), .array([.error("ERR x")])])]
        #expect(try RedisReply.parse(bytes) == expected)
        #expect(try RedisReply.parse(bytes, chunk: 1) == expected)
        #expect(try RedisReply.parse(Array("$5\r\nhel".utf8)).isEmpty)  // incomplete: waits for more
    }

    @Test(arguments: ["?junk\r\n", "*99999999999999999999\r\n", "*-5\r\n:1\r\n", "$-7\r\n", ":12x\r\n",
                      "*9223372036854775807\r\n"])
    func hostileRepliesAreAProtocolErrorNotACrash(text: String) {
        do {
            let replies = try RedisReply.parse(Array(text.utf8))
            Issue.record("\(text.debugDescription) read as \(replies)")
        } catch let error as RedisError {
            #expect(error.code == .connectionLost && error.message.hasPrefix("unreadable reply from Redis"), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func aHugeDeclaredBulkLengthWaitsForBytesWithoutAllocatingThem() throws {
        // hiredis does not allocate a declared length up front; the command timeout ends the wait on a connection
        #expect(try RedisReply.parse(Array("$9223372036854775807\r\nabc".utf8)).isEmpty)
    }
}
