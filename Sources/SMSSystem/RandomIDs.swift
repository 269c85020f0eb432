#if canImport(Glibc)
import Glibc
#endif
import SMSCore
import Synchronization

extension JobID {
    /// A new id such as `0b7c9e3a-5f1d-4c2b-9a8e-1f2d3c4b5a69`, from the kernel's random source.
    public static func make() -> String {
        let (high, low) = KernelRandom.pool.withLock { $0.next() }
        return self.format(high: high, low: low)
    }

    /// A new event id, `evt_` and 32 hex digits: the `webhook-id` of every delivery attempt of one event.
    public static func makeEventID() -> String {
        let (high, low) = KernelRandom.pool.withLock { $0.next() }
        return "evt_" + Self.hex(high) + Self.hex(low)
    }

    /// A new API message id, `msg_` and 32 hex digits.
    public static func makeMessageID() -> String {
        let (high, low) = KernelRandom.pool.withLock { $0.next() }
        return "msg_" + Self.hex(high) + Self.hex(low)
    }

    static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}

/// Random words read 4 KiB at a time from /dev/urandom: a few system calls per 256 ids instead of two per id
/// (Foundation's `UUID()` opens /dev/urandom per call).
struct KernelRandom {
    var words = [UInt64](repeating: 0, count: 512)
    var index = 512

    static let pool = Mutex(KernelRandom())

    mutating func next() -> (UInt64, UInt64) {
        if self.index + 2 > self.words.count {
            #if canImport(Glibc)
            let filled = self.words.withUnsafeMutableBytes { buffer -> Int in
                let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { return -1 }
                defer { close(fd) }
                return read(fd, buffer.baseAddress, buffer.count)
            }
            #else
            let filled = -1
            #endif
            if filled != self.words.count * 8 {  // not available: the standard library's generator
                var generator = SystemRandomNumberGenerator()
                for i in self.words.indices { self.words[i] = generator.next() }
            }
            self.index = 0
        }
        defer { self.index += 2 }
        return (self.words[self.index], self.words[self.index + 1])
    }
}
