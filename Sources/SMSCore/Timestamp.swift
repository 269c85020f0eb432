import Glibc

/// UTC timestamps in ISO 8601 with milliseconds, without Foundation's formatter cost on the hot path. Pure: the
/// time comes from the caller (`Timestamp.now()` in SMSSystem reads the clock).
public enum Timestamp {
    /// `2025-01-20T10:15:00.123Z` for a time in seconds since 1970 (UTC) and its milliseconds.
    public static func format(seconds: Int, milliseconds: Int) -> String {
        var t = seconds
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(unsafeUninitializedCapacity: 24) { out in
            var i = 0
            func put(_ value: Int, _ width: Int) {
                var v = value
                for k in stride(from: width - 1, through: 0, by: -1) {
                    out[i + k] = UInt8(ascii: "0") + UInt8(v % 10)
                    v /= 10
                }
                i += width
            }
            func put(_ byte: Character) {
                out[i] = byte.asciiValue!
                i += 1
            }
            put(Int(parts.tm_year) + 1900, 4)
            put("-")
            put(Int(parts.tm_mon) + 1, 2)
            put("-")
            put(Int(parts.tm_mday), 2)
            put("T")
            put(Int(parts.tm_hour), 2)
            put(":")
            put(Int(parts.tm_min), 2)
            put(":")
            put(Int(parts.tm_sec), 2)
            put(".")
            put(milliseconds, 3)
            put("Z")
            return i
        }
    }
}
