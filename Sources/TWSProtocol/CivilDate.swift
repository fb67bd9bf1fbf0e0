/// Civil dates as days since 1970-01-01, without a calendar object (Foundation's are not
/// Sendable, and these run for every bar): Howard Hinnant's `days_from_civil` and
/// `civil_from_days`, correct for any date an Int64 of days holds (proleptic Gregorian).
/// The one copy of this arithmetic: the bar store's UTC times, the trading calendar and the
/// paper gateway's hours all use it.
public enum CivilDate {
    /// `value / divisor` rounded toward minus infinity (days before 1970 are negative).
    public static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    /// The day of the week of days since 1970-01-01: 0 Sunday, 1 Monday, ... 6 Saturday
    /// (1970-01-01 was a Thursday).
    public static func weekday(_ days: Int64) -> Int64 {
        days + 4 - floorDivide(days + 4, 7) * 7
    }

    /// Days since 1970-01-01 of a civil date. The caller keeps month and day in their ranges.
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of days since 1970-01-01.
    public static func civil(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
