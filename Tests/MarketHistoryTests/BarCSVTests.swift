import Foundation
import MarketHistory
import PostgresBarStore
import Testing

/// The CSV import reads what spreadsheets and other tools write (a byte order mark, CRLF) and
/// refuses, by line and column, whatever would crash it or a replaying gateway later: a column
/// twice, a time past any calendar, a NUL, a number that is not finite or not plausible.
@Suite("Bar CSV: hostile files")
struct BarCSVTests {
    static let header = "time,open,high,low,close,volume\n"

    /// The one problem `csv` is refused for.
    func refusal(_ csv: String) -> BarCSV.Problem? {
        do {
            _ = try BarCSV.read(csv)
            return nil
        } catch {
            return error.problems.first
        }
    }

    @Test("a UTF-8 byte order mark and CRLF line ends are read like plain lines")
    func bomAndCRLF() throws {
        let csv = "\u{FEFF}time,open,high,low,close,volume\r\n2024-01-02T14:30:00Z,100,101,99,100.5,1000\r\n2024-01-02T14:31:00Z,100.5,102,100,101,7\r\n"
        let bars = try BarCSV.read(csv)
        #expect(bars.map(\.time) == [1_704_205_800, 1_704_205_860])
        #expect(bars.map(\.volume) == [1000, 7])
    }

    @Test("a column named twice is refused on line 1, naming it and both places")
    func duplicateColumn() {
        let problem = refusal("time,open,high,low,close,open\n2024-01-02T14:30:00Z,1,2,0.5,1,1\n")
        #expect(problem == BarCSV.Problem(line: 1, message: "the header has column 'open' twice (columns 2 and 6)"))
    }

    @Test("times beyond 1900...9999, ±2^63 among them, are refused by line and column", arguments: [
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-99999999999999999999", "1704205800000", "253402300800",
        "-2208988801", "0000-01-01", "1899-12-31T23:59:59Z",
    ])
    func outOfRangeTimes(_ time: String) {
        let problem = refusal(Self.header + "\(time),1,2,0.5,1,5\n")
        #expect(problem?.line == 2)
        #expect(problem?.message.hasPrefix("time '\(time)' is") == true, "\(String(describing: problem))")
    }

    @Test("the edges of the range, offsets and the other spellings are read exactly")
    func timeSpellings() throws {
        let cases: [(String, Int64)] = [
            ("9999-12-31T23:59:59Z", 253_402_300_799), ("1900-01-01", -2_208_988_800), ("2024-01-02 14:30", 1_704_205_800),
            ("2024-01-02T09:30:00-05:00", 1_704_205_800), ("2024-01-02T15:30+0100", 1_704_205_800), ("1704205800", 1_704_205_800),
            ("2024-02-29", 1_709_164_800), ("\"2024-01-02 14:30:00\"", 1_704_205_800),
        ]
        for (text, epoch) in cases {
            #expect(try BarCSV.read(Self.header + "\(text),1,2,0.5,1,5\n").map(\.time) == [epoch], "\(text)")
        }
        for bad in ["2023-02-29", "2024-13-01", "2024-01-02T24:00:00Z", "2024-01-02T14:30:00+25:00", "2024-01-02X", "2024-1-2", "tomorrow"] {
            #expect(refusal(Self.header + "\(bad),1,2,0.5,1,5\n")?.message.hasPrefix("time '\(bad)' is not a time") == true, "\(bad)")
        }
    }

    @Test("a NUL (or any control character) is refused, never read as the number before it")
    func controlCharacters() {
        #expect(refusal(Self.header + "2024-01-02T14:30:00Z,1,2,0.5,1\u{0}9,5\n") == BarCSV.Problem(line: 2, message: "close '1\\x009' contains a control character"))
        #expect(refusal(Self.header + "2024-01-02T14:30:00Z,1,2,0.5,1,5\u{0}\n")?.message == "volume '5\\x00' contains a control character")
        #expect(refusal(Self.header + "2024-01-02T14:30:00Z\u{1B}[2J,1,2,0.5,1,5\n")?.message == "time '2024-01-02T14:30:00Z\\e[2J' contains a control character")
        // In a column the import does not use, too: it is not a text file of bars.
        #expect(refusal("time,open,high,low,close,note\n2024-01-02T14:30:00Z,1,2,0.5,1,a\u{0}b\n")?.message == "note 'a\\x00b' contains a control character")
    }

    @Test("volume not finite, absurd or negative is refused naming the column", arguments: [
        ("inf", "is not a finite number"), ("-inf", "is not a finite number"), ("nan", "is not a finite number"), ("1e300", "is above 1e15 (not a volume)"),
        ("1e400", "is not a finite number"), ("-5", "is negative"), ("0x10", "is not a number"),
    ])
    func badVolume(_ volume: String, _ why: String) {
        let problem = refusal(Self.header + "2024-01-02T14:30:00Z,1,2,0.5,1,\(volume)\n")
        #expect(problem == BarCSV.Problem(line: 2, message: "volume '\(volume)' \(why)"))
    }

    @Test("prices not finite, negative or absurd, and a high below the low, are refused")
    func badPrices() {
        #expect(refusal(Self.header + "2024-01-02T14:30:00Z,-1,2,0.5,1,5\n")?.message == "open '-1' is negative")
        #expect(refusal(Self.header + "2024-01-02T14:30:00Z,1,inf,0.5,1,5\n")?.message == "high 'inf' is not a finite number")
        #expect(refusal(Self.header + "2024-01-02T14:30:00Z,1,2e13,0.5,1,5\n")?.message == "high '2e13' is above 1e12 (not a price)")
        #expect(refusal(Self.header + "2024-01-02T14:30:00Z,1,2,0.5,NaN,5\n")?.message == "close 'NaN' is not a finite number")
        #expect(refusal(Self.header + "2024-01-02T14:30:00Z,1,0.4,0.5,1,5\n")?.message == "high 0.4 and low 0.5 do not contain open 1.0 and close 1.0")
        #expect(refusal("time,open,high,low,close,wap,count\n2024-01-02T14:30:00Z,1,2,0.5,1,-3,5\n")?.message == "wap '-3' is negative")
        #expect(refusal("time,open,high,low,close,wap,count\n2024-01-02T14:30:00Z,1,2,0.5,1,1,1e300\n")?.message == "count '1e300' is not a whole number of trades")
        #expect(refusal(Self.header + "2024-01-02T14:30:00Z,,2,0.5,1,5\n")?.message == "open is missing")
    }

    @Test("TWS's -1 (not available) for volume, wap and count is kept, as a download stores it")
    func notAvailable() throws {
        let bars = try BarCSV.read("time,open,high,low,close,volume,wap,count\n2024-01-02T14:30:00Z,1,2,0.5,1,-1,-1,-1\n")
        #expect(bars == [StoredBar(time: 1_704_205_800, open: 1, high: 2, low: 0.5, close: 1, volume: -1, wap: -1, count: -1)])
        #expect(try BarCSV.read(BarCSV.write(bars)) == bars)
    }

    @Test("every bad line is found: the first ten are named, all are counted, none is read")
    func manyBadLines() {
        var csv = Self.header
        for minute in 0..<30 { csv += "2024-01-02T14:\(10 + minute):00Z,1,2,0.5,1,\(minute % 2 == 0 ? "inf" : "5")\n" }
        do {
            _ = try BarCSV.read(csv)
            Issue.record("read a file with 15 bad lines")
        } catch {
            #expect(error.total == 15)
            #expect(error.problems.map(\.line) == Array(stride(from: 2, through: 20, by: 2)))
        }
    }

    @Test("the cell functions stand alone (a faster parser reuses them)")
    func cells() throws {
        #expect(try BarCSV.price("101.25") == 101.25)
        #expect(try BarCSV.volume("") == nil)
        #expect(try BarCSV.count("12.0") == 12)
        #expect(throws: BarCSV.CellProblem.self) { try BarCSV.time("1e10") }
        #expect(throws: BarCSV.CellProblem.self) { try BarCSV.price("+inf") }
        // A huge cell is quoted cut short: the message stays one readable line.
        do {
            _ = try BarCSV.price(Substring(String(repeating: "9x", count: 100_000)))
        } catch {
            #expect(error.message.utf8.count < 200, "\(error.message.prefix(300))")
        }
    }
}

/// A store's URL never shows its password, also when it does not parse.
@Suite("Store locations without passwords")
struct StoreLocationTests {
    @Test("user and password between the scheme and @ become ***, however the URL is mistyped; paths and password= parameters too", arguments: [
        ("postgres://user:secret@db:5432/bars", "postgres://***@db:5432/bars"),
        ("postgres://user:secret@[bad", "postgres://***@[bad"),
        ("postgresql://u:p@ss:w/rd@host/db", "postgresql://***@host/db"),
        ("postgres://u:secret", "postgres://***"),
        ("postgres://u%3Asecret@h:1/x", "postgres://***@h:1/x"),
        ("postgresql:/user:hunter2@h/x", "postgresql:/***@h/x"),
        ("postgres//user:hunter2@h/x", "postgres//***@h/x"),
        ("postgres:u:secret@h", "postgres:***@h"),
        ("postgres://db:5432/bars", "postgres://db:5432/bars"),
        ("postgres://user@db/bars", "postgres://***@db/bars"),
        ("postgres://db/bars?user=me&password=secret&sslmode=disable", "postgres://db/bars?user=me&password=***&sslmode=disable"),
        ("host=db PASSWORD=secret dbname=bars", "host=db PASSWORD=*** dbname=bars"),
        ("/home/me/bars.sqlite", "/home/me/bars.sqlite"),
    ])
    func redacted(_ location: String, _ shown: String) {
        #expect(StoreLocation.redacted(location) == shown)
    }

    @Test("a URL that does not parse is refused without its password")
    func unparsable() async {
        for url in ["postgres://user:secret@[bad", "postgres://user:secret@", "postgres://user:secret@host:99999999/db"] {
            do {
                let store = try await PostgresBarStore.open(url)
                await store.shutdown()
                Issue.record("opened \(url)")
            } catch {
                #expect(!"\(error)".contains("secret"), "\(error)")
                #expect("\(error)".contains("***@"), "\(error)")
            }
        }
    }
}
