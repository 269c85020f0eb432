/// The subscriber behind a sender number: the one spelling used for every per-number key (opt-out set, loop
/// guard) and for replies, so that `+1 (555) 010-0000`, `+15550100000` and `001 555 010 0000` are one person.
/// Pure. The raw number is still recorded as received.
public enum PhoneNumber {
    /// - A number with a letter is an alphanumeric sender id: unchanged.
    /// - `+<digits>` (spaces, `-`, `.`, `(`, `)` dropped): E.164, `+` and the digits.
    /// - `00<digits>` (and `011<digits>` where the default country code is 1): the international prefix, `+<digits>`.
    /// - Fewer than 7 digits: a short code, its digits.
    /// - Otherwise, with a default country code: one trunk `0` (or, for country code 1, a leading `1` of an
    ///   11-digit number) dropped, `+<code><digits>`; without one, the digits alone.
    public static func subscriber(_ number: String, defaultCountryCode: String? = nil) -> String {
        var digits: [UInt8] = []
        digits.reserveCapacity(number.utf8.count)
        var plus = false
        for b in number.utf8 {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits.append(b)
            case UInt8(ascii: "+"): plus = plus || digits.isEmpty
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"): continue
            default: return number  // a letter or anything else: a sender id, kept as it is
            }
        }
        if digits.isEmpty { return number }
        var national = digits[...]
        if plus { return "+" + String(decoding: national, as: UTF8.self) }
        if national.starts(with: Array("00".utf8)) {
            return "+" + String(decoding: national.dropFirst(2), as: UTF8.self)
        }
        guard national.count >= 7, let code = defaultCountryCode, !code.isEmpty else {
            return String(decoding: national, as: UTF8.self)
        }
        if code == "1" {
            if national.starts(with: Array("011".utf8)) { return "+" + String(decoding: national.dropFirst(3), as: UTF8.self) }
            if national.count == 11, national.first == UInt8(ascii: "1") { national = national.dropFirst() }
        } else if national.first == UInt8(ascii: "0") {
            national = national.dropFirst()
        }
        return "+" + code + String(decoding: national, as: UTF8.self)
    }

    /// True for a country calling code as the config gives it: 1 to 3 digits, not starting with 0.
    public static func isCountryCode(_ code: String) -> Bool {
        (1...3).contains(code.utf8.count) && code.utf8.first != UInt8(ascii: "0")
            && code.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
