import Testing
@testable import TWSClient

@Suite("Connection state machine (no I/O)")
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine

    func readyMachine() -> Machine {
        var machine = Machine()
        _ = machine.handle(.start)
        _ = machine.handle(.channelActive)
        _ = machine.handle(.serverHello(version: 200))
        _ = machine.handle(.synchronized)
        return machine
    }

    @Test("connect, hello, startApi, ready")
    func happyPath() {
        var machine = Machine()
        #expect(machine.handle(.start) == [.connect])
        #expect(machine.handle(.channelActive) == [.sendHello, .startHandshakeTimer])
        #expect(machine.handle(.serverHello(version: 200)) == [.sendStartAPI])
        #expect(machine.handle(.synchronized) == [.cancelTimers, .becameReady(restored: false)])
        #expect(machine.isReady)
    }

    @Test("backoff doubles from the base up to the cap, with bounded jitter")
    func backoff() {
        var policy = Machine.Policy()
        policy.jitter = 0
        var machine = Machine(policy: policy)
        #expect((1...8).map { machine.backoff(attempt: $0) } == [1, 2, 4, 8, 16, 32, 60, 60])
        var jittered = Machine()
        for attempt in 1...10 {
            let delay = jittered.backoff(attempt: attempt)
            let base = min(60, Double(1 << (attempt - 1)))
            #expect(delay >= base * 0.8 - 1e-9 && delay <= min(60, base * 1.2) + 1e-9)
        }
    }

    @Test("a refused connection retries with growing delays; success resets")
    func retries() {
        var policy = Machine.Policy()
        policy.jitter = 0
        var machine = Machine(policy: policy)
        _ = machine.handle(.start)
        #expect(machine.handle(.connectFailed) == [.scheduleReconnect(delay: 1)])
        #expect(machine.handle(.reconnectTimerFired) == [.connect])
        #expect(machine.handle(.connectFailed) == [.scheduleReconnect(delay: 2)])
        _ = machine.handle(.reconnectTimerFired)
        #expect(machine.handle(.connectFailed) == [.scheduleReconnect(delay: 4)])
        _ = machine.handle(.reconnectTimerFired)
        _ = machine.handle(.channelActive)
        _ = machine.handle(.serverHello(version: 178))
        #expect(machine.handle(.synchronized) == [.cancelTimers, .becameReady(restored: false)])
        #expect(machine.handle(.connectionClosed) == [.cancelTimers, .connectionLost, .scheduleReconnect(delay: 1)])
    }

    @Test("a dropped socket reconnects and restores subscriptions")
    func reconnect() {
        var machine = readyMachine()
        let actions = machine.handle(.connectionClosed)
        #expect(actions.contains(.connectionLost))
        #expect(machine.state == .waiting(attempt: 1))
        _ = machine.handle(.reconnectTimerFired)
        _ = machine.handle(.channelActive)
        _ = machine.handle(.serverHello(version: 200))
        #expect(machine.handle(.synchronized) == [.cancelTimers, .becameReady(restored: true)])
    }

    @Test("326: close and retry the same client id after at least the configured delay")
    func duplicateClientId() {
        var machine = Machine()
        _ = machine.handle(.start)
        _ = machine.handle(.channelActive)
        _ = machine.handle(.serverHello(version: 200))
        let actions = machine.handle(.duplicateClientId)
        #expect(actions.contains(.closeConnection))
        guard case let .scheduleReconnect(delay) = actions.last else {
            Issue.record("no reconnect scheduled")
            return
        }
        #expect(delay >= 2)
    }

    @Test("1100 marks data stale; 1101 and 1102 both resubscribe")
    func connectivity() {
        var machine = readyMachine()
        #expect(machine.handle(.connectivityLost) == [.markStale])
        #expect(machine.stale)
        #expect(machine.handle(.connectivityRestored(code: 1101)) == [.resubscribeAll])
        #expect(!machine.stale)
        _ = machine.handle(.connectivityLost)
        #expect(machine.handle(.connectivityRestored(code: 1102)) == [.resubscribeAll])
    }

    @Test("a storm of 1101/1102 notices resubscribes once per episode")
    func noticeStorm() {
        var machine = readyMachine()
        _ = machine.handle(.connectivityLost)
        #expect(machine.handle(.connectivityRestored(code: 1102)) == [.resubscribeAll])
        for _ in 0..<10_000 { #expect(machine.handle(.connectivityRestored(code: 1102)) == []) }
        #expect(machine.handle(.connectivityLost) == [.markStale])
        #expect(machine.handle(.connectivityRestored(code: 1101)) == [.resubscribeAll])
    }

    @Test("handshake timeout closes and retries; unsupported versions stop with a clear error")
    func handshake() {
        var machine = Machine()
        _ = machine.handle(.start)
        _ = machine.handle(.channelActive)
        let actions = machine.handle(.handshakeTimedOut)
        #expect(actions.first == .closeConnection)
        #expect(machine.state == .waiting(attempt: 1))
        var old = Machine()
        _ = old.handle(.start)
        _ = old.handle(.channelActive)
        let refused = old.handle(.serverHello(version: 150))
        #expect(old.state == .stopped)
        #expect(refused.contains { if case .report(.unsupportedServerVersion(150, _)) = $0 { true } else { false } })
    }

    @Test("heartbeat: due sends one; missed drops the connection and reconnects")
    func heartbeat() {
        var policy = Machine.Policy()
        policy.jitter = 0
        var machine = Machine(policy: policy)
        _ = machine.handle(.start)
        _ = machine.handle(.channelActive)
        _ = machine.handle(.serverHello(version: 200))
        _ = machine.handle(.synchronized)
        #expect(machine.handle(.heartbeatDue) == [.sendHeartbeat])
        #expect(machine.handle(.heartbeatMissed) == [.closeConnection, .cancelTimers, .connectionLost, .scheduleReconnect(delay: 1)])
        #expect(machine.state == .waiting(attempt: 1))
    }

    @Test("stop ends everything and ignores what comes after")
    func stop() {
        var machine = readyMachine()
        #expect(machine.handle(.stop) == [.cancelTimers, .closeConnection, .connectionLost])
        #expect(machine.handle(.connectionClosed).isEmpty)
        #expect(machine.handle(.start).isEmpty)
    }

    @Test("the rate limiter lets 45 a second through and spaces the rest")
    func rateLimiter() {
        var limiter = RateLimiter(perSecond: 45)
        for index in 0..<45 {
            #expect(limiter.delay(now: 100 + Double(index) * 0.001) == 0)
            limiter.record(now: 100 + Double(index) * 0.001)
        }
        let wait = limiter.delay(now: 100.05)
        #expect(wait > 0.94 && wait <= 0.95 + 1e-9)
        #expect(RateLimiter(perSecond: 80).perSecond == 50)
    }
}
