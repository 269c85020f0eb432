#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Random (version 4) UUIDs in lower-case text, without Foundation (whose `UUID()` opens /dev/urandom per call).
public enum JobID {
    /// A new id such as `0b7c9e3a-5f1d-4c2b-9a8e-1f2d3c4b5a69`, from the kernel's random source.
    public static func make() -> String {
        let (high, low) = self.pool.withLock { $0.next() }
        return self.format(high: high, low: low)
    }

    /// Random words read 4 KiB at a time from /dev/urandom: a few system calls per 256 ids instead of two per id.
    struct Pool {
        var words = [UInt64](repeating: 0, count: 512)
        var index = 512

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

    static let pool = Mutex(Pool())

    /// The text form of the 128 bits `high`, `low` with the version (4) and variant (10) bits set.
    static func format(high: UInt64, low: UInt64) -> String {
        let high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        let hex: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { out in
            var i = 0
            func put(_ value: UInt64, nibbles: Int) {
                for n in stride(from: nibbles - 1, through: 0, by: -1) {
                    out[i] = hex.utf8Start[Int((value >> UInt64(n * 4)) & 0xF)]
                    i += 1
                }
            }
            put(high >> 32, nibbles: 8)
            out[i] = UInt8(ascii: "-"); i += 1
            put((high >> 16) & 0xFFFF, nibbles: 4)
            out[i] = UInt8(ascii: "-"); i += 1
            put(high & 0xFFFF, nibbles: 4)
            out[i] = UInt8(ascii: "-"); i += 1
            put(low >> 48, nibbles: 4)
            out[i] = UInt8(ascii: "-"); i += 1
            put(low & 0xFFFF_FFFF_FFFF, nibbles: 12)
            return i
        }
    }
}
