// An application that embeds Moonwire: it starts the runtime against the built-in paper
// gateway, gives its strategies a `signals` table answered in Swift, posts its own events to
// them, follows what happens, and stops after a while with a summary.
//
//   swift run embedded-moonwire [--seconds 8] [--journal PATH] [--strategy FILE]
//
// Exits 0 when the strategy traded (an order placed and filled) without a failing handler.

import Foundation
import Moonwire
import NIOConcurrencyHelpers

func option(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

let seconds = Double(option("--seconds") ?? "") ?? 8
let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Strategies").standardizedFileURL
let strategyFile = option("--strategy") ?? folder.appendingPathComponent("follow_signal.lua").path

// The application's own signal: a value in [-1, 1] per symbol, which Swift keeps current.
let latest = NIOLockedValueBox<[String: Double]>([:])

var signals = try LuaExtension(table: "signals")
try signals.function("latest") { arguments in
    let symbol = try arguments.string(1, "symbol")
    return [latest.withLockedValue { $0[symbol] }.map { .number($0) } ?? .nil]
}
try signals.waitingFunction("explain") { arguments in
    let symbol = try arguments.string(1, "symbol")
    return {
        // Stands for a call to a service of the application (a database, a model, HTTP).
        try await Task.sleep(for: .milliseconds(50))
        let value = latest.withLockedValue { $0[symbol] } ?? 0
        return [.string(String(format: "%@ signal is %.2f", symbol, value))]
    }
}

var configuration = MoonwireConfiguration()  // the built-in paper gateway, default limits
configuration.journalPath = option("--journal")
configuration.controlChannel = false
configuration.paper.market.tickIntervalMs = 50

let runtime: MoonwireRuntime
do {
    runtime = try await MoonwireRuntime.start(configuration, extensions: [signals])
} catch {
    print("error: \(error)")
    exit(1)
}
print("connected to the paper gateway on \(runtime.host):\(runtime.port), account \(runtime.account)")

let events = runtime.events()
let watching = Task {
    for await event in events {
        switch event {
        case let .strategyAdded(name, path): print("strategy \(name) started from \(path)")
        case let .trading(.fill(fill)): print("fill: \(fill.side) \(fill.shares) \(fill.symbol) at \(fill.price)")
        case let .notice(line): print(line)
        case .stopped: print("stopped")
        default: break
        }
    }
}

let name = try await runtime.addStrategy(file: strategyFile, params: ["symbol": "AAPL"])

// The signal: a slow wave, posted to the strategy whenever it crosses ±0.5.
let started = Date()
var last = 0.0
while Date().timeIntervalSince(started) < seconds {
    let value = sin(Date().timeIntervalSince(started) * 2.2)
    latest.withLockedValue { $0["AAPL"] = value }
    if (value > 0.5) != (last > 0.5) || (value < -0.5) != (last < -0.5) {
        try runtime.post("on_signal", [.string("AAPL"), .number(value)], to: name)
    }
    last = value
    try await Task.sleep(for: .milliseconds(100))
}

let summary = await runtime.stop()
_ = await watching.value
print(summary.text)
let part = summary.strategies.first { $0.name == name }
let traded = (part?.statistics.ordersPlaced ?? 0) > 0 && !(part?.fills.isEmpty ?? true)
let failed = (part?.statistics.handlerFailures ?? 1) > 0
print(traded && !failed ? "ok: the strategy traded on the application's signal" : "error: the strategy did not trade, or a handler failed")
exit(traded && !failed ? 0 : 1)
