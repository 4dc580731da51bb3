import Foundation

/// ISO 8601 timestamps as AWS writes them: "2021-07-14T23:46:41.174+0000" (CloudWatch's SNS
/// notifications), "2019-10-02T17:04:40Z" (EventBridge), "…+00:00". Arithmetic only: no
/// formatter, no locale, and anything else is nil rather than a guess.
public enum Timestamp {
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20, b.count <= 40 else { return nil }
        func digits(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var v = 0
            for i in at..<(at + n) {
                guard (48...57).contains(b[i]) else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard let year = digits(0, 4), b[4] == 45, let month = digits(5, 2), b[7] == 45, let day = digits(8, 2),
              b[10] == 84 || b[10] == 116 || b[10] == 32, let hour = digits(11, 2), b[13] == 58, let minute = digits(14, 2),
              b[16] == 58, let second = digits(17, 2) else { return nil }
        guard (1970...9999).contains(year), (1...12).contains(month), (1...daysIn(month, year)).contains(day),
              hour < 24, minute < 60, second < 61 else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, (48...57).contains(b[i]) {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start, i - start <= 9 else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 90 || b[i] == 122 {
            guard i + 1 == b.count else { return nil }
        } else if b[i] == 43 || b[i] == 45 {
            let sign = b[i] == 43 ? 1 : -1
            guard let h = digits(i + 1, 2), h < 24 else { return nil }
            var m: Int?
            if i + 3 == b.count {
                m = 0
            } else if b.count == i + 5 {
                m = digits(i + 3, 2)
            } else if b.count == i + 6, b[i + 3] == 58 {
                m = digits(i + 4, 2)
            }
            guard let m, m < 60 else { return nil }
            offset = sign * (h * 3600 + m * 60)
        } else {
            return nil
        }
        let days = daysFromCivil(year, month, day)
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offset)
        return Date(timeIntervalSince1970: seconds + fraction)
    }

    /// "2021-07-14T23:46:41.174Z", UTC, milliseconds.
    public static func format(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let (dayCount, msOfDay) = ms >= 0 ? (ms / 86_400_000, ms % 86_400_000) : ((ms + 1) / 86_400_000 - 1, (ms % 86_400_000 + 86_400_000) % 86_400_000)
        let (y, mo, d) = civilFromDays(Int(dayCount))
        let h = msOfDay / 3_600_000, mi = msOfDay / 60_000 % 60, s = msOfDay / 1000 % 60, f = msOfDay % 1000
        func pad(_ v: some BinaryInteger, _ n: Int) -> String {
            let t = String(v)
            return String(repeating: "0", count: max(0, n - t.count)) + t
        }
        return "\(pad(y, 4))-\(pad(mo, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2)).\(pad(f, 3))Z"
    }

    static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

extension String {
    /// At most `n` Unicode scalars of the string (a character may hold any number of
    /// combining marks, so `prefix` on characters does not bound a length). Never splits a
    /// scalar; may split a character, which Slack and the terminal show as its base letter.
    /// At most `n` UTF-16 code units (how Slack counts a text's length), cut between scalars.
    public func utf16(upTo n: Int) -> String {
        guard utf16.count > n else { return self }
        var view = String.UnicodeScalarView()
        var used = 0
        for scalar in unicodeScalars {
            let width = scalar.value > 0xFFFF ? 2 : 1
            guard used + width <= n else { break }
            view.append(scalar)
            used += width
        }
        return String(view)
    }

    public func scalars(upTo n: Int) -> String {
        guard unicodeScalars.count > n else { return self }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: unicodeScalars.prefix(max(0, n)))
        return String(view)
    }
}
