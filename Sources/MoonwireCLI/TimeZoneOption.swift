import ArgumentParser
import Foundation
import Moonwire
import TWSProtocol

/// A time zone given on the command line (`--time-zone`, `--times-in`): a place's name or IB's
/// abbreviation of one, refused with the option's name when it is none.
enum TimeZoneOption {
    static func zone(_ name: String, option: String) throws -> TimeZone {
        guard name.utf8.count <= 64, let zone = TradingCalendar.zone(named: name) else {
            throw ValidationError("\(option) '\(ShownText.shown(name, limit: 80))' is not a time zone (America/New_York, Europe/London, US/Central, UTC, ...)")
        }
        return zone
    }
}
