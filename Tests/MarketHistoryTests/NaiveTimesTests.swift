import Foundation
import MarketHistory
import Testing

/// CSV times without a zone read in a place's clock (`history import --times-in`): summer time
/// included, the skipped hour refused, the repeated hour read in the file's order, and every
/// other form of time read as it says.
@Suite("CSV times in a place's clock")
struct NaiveTimesTests {
    static let newYork = TimeZone(identifier: "America/New_York")!

    static func bars(_ lines: [String], in zone: TimeZone? = newYork) throws -> [StoredBar] {
        try BarCSV.read(([BarCSV.header] + lines).joined(separator: "\n") + "\n", naiveTimesIn: zone)
    }

    static func line(_ time: String, close: String = "100.5") -> String { "\(time),100,101,99,\(close),10,,"}

    static func utc(_ text: String) -> Int64 {
        let formatter = ISO8601DateFormatter()
        return Int64(formatter.date(from: text)!.timeIntervalSince1970)
    }

    @Test("New York's clock: EST in winter, EDT in summer; T or a space, with or without seconds")
    func winterAndSummer() throws {
        let bars = try Self.bars([Self.line("2024-01-02 09:30:00"), Self.line("2024-01-02T09:31"), Self.line("2024-07-01 09:30"),
                                  Self.line("2024-07-01T16:00:00")])
        #expect(bars.map(\.time) == [Self.utc("2024-01-02T14:30:00Z"), Self.utc("2024-01-02T14:31:00Z"), Self.utc("2024-07-01T13:30:00Z"),
                                     Self.utc("2024-07-01T20:00:00Z")])
    }

    @Test("Z, an offset, epoch seconds and a date say their own moment, whatever --times-in says")
    func zonedFormsUntouched() throws {
        let zoned = [Self.line("2024-01-02T14:30:00Z"), Self.line("2024-01-02T09:31:00-05:00"), Self.line("1704206000"),
                     Self.line("2024-01-03")]
        #expect(try Self.bars(zoned).map(\.time) == (try Self.bars(zoned, in: nil)).map(\.time))
        #expect(try Self.bars([Self.line("2024-01-03")]).map(\.time) == [Self.utc("2024-01-03T00:00:00Z")])
    }

    @Test("a time in the hour the clocks skip is refused, naming its line and the place")
    func skippedHourRefused() throws {
        do {
            _ = try Self.bars([Self.line("2024-03-10 01:59"), Self.line("2024-03-10 02:30"), Self.line("2024-03-10 03:00")])
            Issue.record("the skipped hour was accepted")
        } catch let failure as BarCSV.Failure {
            #expect(failure.total == 1)
            #expect(failure.problems.first?.line == 3)
            #expect(failure.problems.first?.message.contains("does not exist in America/New_York") == true)
        }
        // Around it, both sides read: 01:59 EST and 03:00 EDT are a minute apart.
        let bars = try Self.bars([Self.line("2024-03-10 01:59"), Self.line("2024-03-10 03:00")])
        #expect(bars.map(\.time) == [Self.utc("2024-03-10T06:59:00Z"), Self.utc("2024-03-10T07:00:00Z")])
    }

    @Test("the hour the clocks repeat is read in the file's order: first EDT, then EST")
    func repeatedHourInOrder() throws {
        var lines: [String] = []
        for minute in stride(from: 0, to: 60, by: 15) { lines.append(Self.line("2024-11-03 01:\(minute == 0 ? "00" : "\(minute)")")) }
        for minute in stride(from: 0, to: 60, by: 15) { lines.append(Self.line("2024-11-03 01:\(minute == 0 ? "00" : "\(minute)")")) }
        lines.append(Self.line("2024-11-03 02:00"))
        let times = try Self.bars(lines).map(\.time)
        let start = Self.utc("2024-11-03T05:00:00Z")  // 01:00 EDT
        #expect(times == (0..<9).map { start + Int64($0) * 900 })
        // Once only (a file with the second pass missing): the first, EDT.
        #expect(try Self.bars([Self.line("2024-11-03 01:30")]).map(\.time) == [Self.utc("2024-11-03T05:30:00Z")])
    }

    @Test("a time the clock moves past 1900 or 9999 in UTC is refused, naming both readings")
    func boundsAfterTheClock() throws {
        do {
            _ = try Self.bars([Self.line("9999-12-31 23:59")])
            Issue.record("a time past 9999 in UTC was accepted")
        } catch let failure as BarCSV.Failure {
            #expect(failure.problems.first?.message == "time 9999-12-31 23:59:00 in America/New_York is 10000-01-01 04:59:00 UTC, outside 1900-01-01 to 9999-12-31")
        }
        let tokyo = TimeZone(identifier: "Asia/Tokyo")!
        #expect(throws: BarCSV.Failure.self) { try Self.bars([Self.line("1900-01-01 00:00")], in: tokyo) }
        #expect(try Self.bars([Self.line("9999-12-31 23:59")], in: tokyo).count == 1)
    }

    @Test("a quoted or padded cell (the slow path) is read in the clock too")
    func slowPathConverted() throws {
        let bars = try Self.bars([" \"2024-01-02 09:30:00\" ,100,101,99,1e2,10,,", Self.line("2024-01-02 09:31:00")])
        #expect(bars.map(\.time) == [Self.utc("2024-01-02T14:30:00Z"), Self.utc("2024-01-02T14:31:00Z")])
        #expect(bars.first?.close == 100)
    }

    @Test("every 13th minute of two years in three places agrees with the calendar's own reading (cached offsets included)")
    func agreesWithCalendar() throws {
        for name in ["America/New_York", "Europe/London", "Australia/Sydney"] {
            let zone = TimeZone(identifier: name)!
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            var converter = NaiveTimes(zone: zone)
            let start = Self.utc("2023-01-01T00:00:00Z")
            var previous: Int64?
            var checked = 0
            for wall in stride(from: start, to: start + 2 * 366 * 86_400, by: 13 * 60) {
                let c = UTCTime.components(wall)
                let components = DateComponents(year: c.year, month: c.month, day: c.day, hour: c.hour, minute: c.minute)
                guard let date = calendar.date(from: components) else { continue }
                let expected = Int64(date.timeIntervalSince1970)
                let shown = calendar.dateComponents([.hour, .minute], from: date)
                let exists = shown.hour == c.hour && shown.minute == c.minute
                let got = converter.utc(ofWall: wall, after: previous)
                if exists {
                    // The calendar gives the first of a repeated reading; the file's order gives
                    // the second only after the first was read.
                    let second = expected + 3_600
                    #expect(got == expected || (got == second && previous.map { $0 >= expected } == true),
                            "\(name) \(UTCTime.iso(wall)): \(got.map { UTCTime.iso($0) } ?? "nil") vs \(UTCTime.iso(expected))")
                    previous = got
                    checked += 1
                } else {
                    #expect(got == nil, "\(name) \(UTCTime.iso(wall)) does not exist there")
                }
            }
            #expect(checked > 75_000)
        }
    }

    @Test("the parser counts the times without a zone and the second-pass readings, with their first lines (BOM, CRLF, quotes, mixed)")
    func countsHowTimesWereRead() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moonwire-naive-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func readings(_ text: String, in zone: TimeZone? = nil) throws -> ClockReadings {
            let file = folder.appendingPathComponent("f.csv")
            try Data(text.utf8).write(to: file)
            return try BarCSVParser.parseFile(at: file.path, naiveTimesIn: zone) { _ in }.clockReadings
        }
        let naive = try readings("time,open,high,low,close\n2024-01-02 09:30,1,1,1,1")
        #expect(naive.naive.count == 1 && naive.naive.first == 2)
        // Blank lines before the header are skipped; lines keep the file's numbers.
        let late = try readings("\n  \r\ntime,open,high,low,close\n2024-01-02 09:30,1,1,1,1\n")
        #expect(late.naive.count == 1 && late.naive.first == 4)
        let mixed = try readings("\u{FEFF}open,Time,high,low,close\r\n\r\n1,2024-01-02T09:30:00Z,1,1,1\r\n1,\"2024-01-02T09:31:00\",1,1,1\r\n"
                                 + "1,1704187920,1,1,1\r\n1, 2024-01-02 09:33 ,1,1,1\r\n")
        #expect(mixed.naive.count == 2 && mixed.naive.first == 4)
        #expect(try readings("open,high,low,close,time\r\n1,1,1,1,2024-01-02\r\n").naive.count == 0)
        // The autumn's repeated hour, out of order: 01:15 after 01:30 is read as the second pass, and counted.
        let autumn = try readings("time,open,high,low,close\n2024-11-03 00:59,1,1,1,1\n2024-11-03 01:30,1,1,1,1\n2024-11-03 01:15,1,1,1,1\n"
                                  + "2024-11-03 01:45,1,1,1,1\n", in: Self.newYork)
        #expect(autumn.secondPass.count == 2 && autumn.secondPass.first == 4)
        #expect(try readings("time,open,high,low,close\n2024-11-03 01:30,1,1,1,1\n", in: Self.newYork).secondPass.count == 0)
    }

    @Test("the form that is read in a clock: date and time without a zone, nothing else")
    func naiveForms() {
        for naive in ["2024-01-02 09:30", "2024-01-02T09:30", "2024-01-02 09:30:00", "2024-01-02T09:30:00"] {
            #expect(NaiveTimes.isNaive(Array(naive.utf8)), "\(naive)")
        }
        for zoned in ["2024-01-02T09:30Z", "2024-01-02T09:30:00Z", "2024-01-02T09:30-05", "2024-01-02T09:30:00-05:00", "2024-01-02T09:30+0100",
                      "1704206000", "2024-01-02", ""] {
            #expect(!NaiveTimes.isNaive(Array(zoned.utf8)), "\(zoned)")
        }
    }
}
