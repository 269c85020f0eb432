import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SMSCore

extension Timestamp {
    /// Now, from the system's real-time clock.
    public static func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return self.format(seconds: ts.tv_sec, milliseconds: Int(ts.tv_nsec / 1_000_000))
    }
}

extension Timestamp {
    /// Seconds since an ISO 8601 time; nil when it cannot be read.
    public static func age(of time: String) -> Double? {
        guard let date = try? Date(time, strategy: .iso8601) else { return nil }
        return max(0, Date().timeIntervalSince(date))
    }
}
