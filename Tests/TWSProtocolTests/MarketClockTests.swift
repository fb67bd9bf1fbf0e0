import Testing
import TWSProtocol

/// A replay's clock: market time at `speed` times the wall clock, and timers in wall time that
/// never trap, whatever the speed.
@Suite("Market clock")
struct MarketClockTests {
    @Test("market time runs speed times as fast as the wall clock from its start")
    func time() {
        let clock = MarketClock(start: 1_704_205_800, wallStart: 1_000, speed: 60)
        #expect(clock.now(wall: 1_000) == 1_704_205_800)
        #expect(clock.now(wall: 1_001) == 1_704_205_860)
    }

    @Test("a timer's wall time: market time over the speed, at least 1 ns, at most Int64.max (a year at 1e-9x)")
    func wallTime() {
        #expect(MarketClock(start: 0, wallStart: 0, speed: 60).wallNanoseconds(60_000_000_000) == 1_000_000_000)
        #expect(MarketClock(start: 0, wallStart: 0, speed: 1e6).wallNanoseconds(1) == 1)
        #expect(MarketClock(start: 0, wallStart: 0, speed: 1e-9).wallNanoseconds(31_536_000_000_000_000) == Int64.max)
        #expect(MarketClock(start: 0, wallStart: 0, speed: .nan).speed == 1, "a speed that is no number is real time")
    }
}
