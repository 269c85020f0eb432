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
