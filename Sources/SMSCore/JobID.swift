/// Random (version 4) UUIDs in lower-case text. Pure: the random bits come from the caller (`JobID.make()` in
/// SMSSystem reads them from the kernel in bulk).
public enum JobID {
    /// A new id from `generator`.
    public static func make(using generator: inout some RandomNumberGenerator) -> String {
        self.format(high: generator.next(), low: generator.next())
    }

    /// The text form of the 128 bits `high`, `low` with the version (4) and variant (10) bits set.
    public static func format(high: UInt64, low: UInt64) -> String {
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
