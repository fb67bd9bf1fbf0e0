import ArgumentParser
import Moonwire
import TWSProtocol

/// The instrument details `history import` is told (`--sec-type`, `--currency`,
/// `--exchange`, `--multiplier`, `--tick`), and what it stores from them: the given values,
/// the rest from the instrument's name (EUR.USD is forex quoted in USD, AAPL a US stock) or,
/// where the name does not say, assumed (USD, multiplier 1, tick 0.01) and said so. Details
/// already stored are kept unless given values disagree: then the import is refused, naming
/// both, unless `--replace-details`.
struct ImportedDetails {
    var secType: String?
    var currency: String?
    var exchange: String?
    var multiplier: Double?
    var tick: Double?
    /// `--time-zone`: the zone the session is in (IANA's `America/New_York`, or TWS's `US/Eastern`).
    var timeZone: String?
    /// `--session 09:30-16:00`: the regular session (what a day bar covers), local time; an end
    /// not after the start is the next day's (a future's `17:00-16:00`).
    var session: String?

    /// What to do with the store's details.
    enum Outcome: Equatable {
        /// What is stored stands (nothing given, or the same).
        case keep
        /// Store these; `notes` say what was assumed or replaced.
        case save(StoredInstrument, notes: [String])
        /// Given values disagree with stored ones (the message names both).
        case conflict(String)
    }

    /// The sec types an instrument's name allows: its form decides what it is.
    static func secTypes(fitting spec: InstrumentSpec) -> [String] {
        switch spec.contract.secType {
        case "CONTFUT": return ["FUT", "CONTFUT"]
        case "OPT": return ["OPT", "FOP"]
        case "": return ["STK"]
        default: return [spec.contract.secType]
        }
    }

    /// The given values checked against what they can mean and against the name (exit 64
    /// naming the option and the value).
    func validated(for spec: InstrumentSpec) throws -> ImportedDetails {
        var checked = self
        if let multiplier {
            try OptionRange.check(multiplier, "--multiplier", StoredInstrument.multipliers)
        }
        if let tick { try OptionRange.check(tick, "--tick", StoredInstrument.ticks) }
        if let secType {
            let type = secType.uppercased()
            let fitting = Self.secTypes(fitting: spec)
            guard fitting.contains(type) else {
                throw ValidationError("--sec-type '\(ShownText.shown(secType))' does not fit \(spec.key): its name makes it \(fitting.joined(separator: " or ")) "
                                      + "(\(InstrumentSpec.grammar))")
            }
            checked.secType = type
        }
        if let currency {
            let code = currency.uppercased()
            guard code.count == 3, code.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                throw ValidationError("--currency '\(ShownText.shown(currency))' is not a currency's three letters (USD, EUR, JPY, ...)")
            }
            if spec.contract.secType == "CASH", code != spec.contract.currency {
                throw ValidationError("--currency \(code) does not fit \(spec.key): it is quoted in \(spec.contract.currency)")
            }
            checked.currency = code
        }
        if let exchange {
            let name = exchange.uppercased()
            guard !name.isEmpty, name.count <= 32, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                throw ValidationError("--exchange '\(ShownText.shown(exchange))' is not an exchange's name (SMART, CME, IDEALPRO, ...)")
            }
            checked.exchange = name
        }
        if let timeZone { _ = try TimeZoneOption.zone(timeZone, option: "--time-zone") }
        if let session {
            guard timeZone != nil else {
                throw ValidationError("--session \(ShownText.shown(session, limit: 80)) needs --time-zone: the hours are local time there")
            }
            checked.session = try Self.listing(ofSession: session)
        }
        return checked
    }

    /// `09:30-16:00` as TWS lists a day's hours (`19700105:0930-19700105:1600`, a Monday the
    /// calendar carries to every day); `17:00-16:00` starts the evening before. Throws naming
    /// what is wrong.
    static func listing(ofSession text: String) throws -> String {
        func minutes(_ part: Substring) -> Int? {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 2, fields.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
                  let hour = Int(fields[0]), let minute = Int(fields[1]), (0...24).contains(hour), (0..<60).contains(minute),
                  hour * 60 + minute <= 24 * 60
            else { return nil }
            return hour * 60 + minute
        }
        let ends = text.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
        guard ends.count == 2, let open = minutes(ends[0]), let close = minutes(ends[1]) else {
            throw ValidationError("--session '\(ShownText.shown(text, limit: 80))' is not a session: give its local open and close as HH:MM-HH:MM (09:30-16:00)")
        }
        func clock(_ minutes: Int) -> String { String(format: "%02d%02d", minutes / 60, minutes % 60) }
        let startDay = close > open ? "19700105" : "19700104"
        return "\(startDay):\(clock(open))-19700105:\(clock(close))"
    }

    /// `US/Central 17:00-16:00` (or the zone's whole days), for notes.
    static func calendarText(_ details: StoredInstrument) -> String {
        guard !details.timeZone.isEmpty else { return "UTC days (no time zone)" }
        return details.timeZone + " " + (details.liquidHours.isEmpty ? "whole days" : sessionText(ofListing: details.liquidHours))
    }

    /// `19700105:0930-19700105:1600` back as `09:30-16:00`, for notes.
    static func sessionText(ofListing listing: String) -> String {
        let clocks = listing.split(separator: "-").compactMap { $0.split(separator: ":").last }.map { "\($0.prefix(2)):\($0.suffix(2))" }
        return clocks.count == 2 ? clocks.joined(separator: "-") : listing
    }

    /// The time zone and session its name gives an instrument, as IB's daily bars have them: a
    /// US stock's New York 09:30-16:00; a forex pair's day from 17:00 New York to 17:00 (a
    /// Sunday evening is Monday's trading). Nil for anything else (a future's hours are its
    /// exchange's: --time-zone and --session, or a download, say them).
    static func namedCalendar(for spec: InstrumentSpec, secType: String, currency: String) -> (zone: String, session: String)? {
        let form = spec.contract.secType.isEmpty ? "STK" : spec.contract.secType
        if form == "STK", secType == "STK", currency == "USD" { return ("US/Eastern", "19700105:0930-19700105:1600") }
        if form == "CASH", secType == "CASH" { return ("US/Eastern", "19700104:1700-19700105:1700") }
        return nil
    }

    /// The details for `spec` with nothing stored: the given values, then what its name says,
    /// then the assumed defaults, which `assumed` lists (`multiplier 1`).
    func details(for spec: InstrumentSpec) -> (details: StoredInstrument, assumed: [String]) {
        let form = spec.contract.secType.isEmpty ? "STK" : spec.contract.secType
        var assumed: [String] = []
        let type = secType ?? (form == "CONTFUT" ? "FUT" : form)
        // A stock or option named plainly is a US one (USD), forex is quoted in its second currency.
        let named: String? = form == "CASH" || form == "STK" || form == "OPT" ? spec.contract.currency : nil
        let quote = currency ?? named ?? {
            assumed.append("currency USD")
            return "USD"
        }()
        let size: Double
        if let multiplier {
            size = multiplier
        } else if ["STK", "CASH", "IND"].contains(form) {
            size = 1
        } else {
            size = form == "OPT" ? 100 : 1
            assumed.append("multiplier \(StoredInstrument.number(size))")
        }
        let step: Double
        if let tick {
            step = tick
        } else if form == "STK", quote == "USD" {
            step = 0.01  // a US stock's (above a dollar)
        } else {
            // IDEALPRO quotes forex to a twentieth of a pip (half a JPY pip for yen pairs).
            step = form == "CASH" ? (quote == "JPY" ? 0.005 : 0.00005) : 0.01
            assumed.append("tick \(StoredInstrument.number(step))")
        }
        var details = StoredInstrument(key: spec.key, secType: type, currency: quote, exchange: exchange ?? spec.contract.exchange,
                                       multiplier: size, tick: step, pairBase: form == "CASH" ? spec.contract.symbol : nil)
        givingCalendar(to: &details, spec: spec)
        return (details, assumed)
    }

    /// Puts the given time zone and session into `details`; where none is given and none is
    /// there, the ones its name gives (a US stock's, a forex pair's: `namedCalendar`), as it
    /// gives the currency, so nothing is noted as assumed.
    func givingCalendar(to details: inout StoredInstrument, spec: InstrumentSpec) {
        if let timeZone {
            details.timeZone = timeZone
            if let session { details.liquidHours = session }
            return
        }
        guard details.timeZone.isEmpty,
              let (zone, session) = Self.namedCalendar(for: spec, secType: details.secType, currency: details.currency)
        else { return }
        details.timeZone = zone
        details.liquidHours = session
    }

    /// What to store, given what is: defaults only when nothing (usable) is stored; given values
    /// that disagree with stored ones refused unless `replace`.
    func outcome(for spec: InstrumentSpec, stored: StoredInstrument?, replace: Bool) -> Outcome {
        guard let stored, stored.problem == nil else {
            let (details, assumed) = details(for: spec)
            // A future's multiplier is half its money (50 for ES, 5 for MES): never assumed.
            if ["FUT", "FOP", "CONTFUT"].contains(details.secType.uppercased()) && multiplier == nil {
                return .conflict("\(spec.key) is a future: its multiplier decides every PnL (50 for ES, 5 for MES) and none is stored; "
                                 + "give --multiplier (and --tick), or download its bars once (moonwire history) so TWS says")
            }
            var notes: [String] = []
            if let stored, let problem = stored.problem { notes.append("\(spec.key): the stored instrument details were unusable (\(problem)): replaced") }
            if !assumed.isEmpty {
                notes.append("\(spec.key): \(assumed.joined(separator: ", ")) assumed (state them with --currency, --multiplier, --tick)")
            }
            return .save(details, notes: notes)
        }
        var merged = stored
        if let secType { merged.secType = secType }
        if let currency { merged.currency = currency }
        if let exchange { merged.exchange = exchange }
        if let multiplier { merged.multiplier = multiplier }
        if let tick { merged.tick = tick }
        // A time zone and session are not money: given ones replace what is stored, and where
        // none is stored a US stock's fills the gap.
        givingCalendar(to: &merged, spec: spec)
        guard merged != stored else { return .keep }
        var differences = stored.moneyDifferences(from: merged, mine: "stored", theirs: "given")
        // An exchange where none was stored fills a gap; another one disagrees.
        if !stored.exchange.isEmpty, merged.exchange != stored.exchange {
            differences.append("exchange \(stored.exchange) (stored) vs \(merged.exchange) (given)")
        }
        var notes: [String] = []
        if !stored.timeZone.isEmpty, merged.timeZone != stored.timeZone || merged.liquidHours != stored.liquidHours {
            notes.append("\(spec.key): its trading days are now \(Self.calendarText(merged)) (were \(Self.calendarText(stored)))")
        }
        guard !differences.isEmpty else { return .save(merged, notes: notes) }
        guard replace else {
            return .conflict("\(spec.key): the stored instrument details disagree with the given ones: \(differences.joined(separator: ", ")); "
                             + "give --replace-details to replace them")
        }
        return .save(merged, notes: notes + ["\(spec.key): instrument details replaced: \(differences.joined(separator: ", "))"])
    }
}
