/// What a global function that looks like a handler but is none was probably meant to be.
///
/// By spelling alone (edit distance), `on_tick` is nearest `on_fill` (3 edits) although a
/// trader who writes it means quotes, and `onQuote` (camel case, as other platforms spell
/// handlers) was not flagged at all: such a function is silently never called. So the
/// suggestion goes by form first (the same words in another case or spelling), then by
/// meaning (the words other platforms use for the same event), then by spelling.
enum HandlerNameSuggestion {
    /// Words other platforms and APIs use for each event, by the handler Moonwire calls for it.
    static let synonyms: [String: [String]] = [
        "on_quote": ["quote", "quotes", "tick", "ticks", "ticker", "price", "prices", "price_update", "tick_price", "market_data",
                     "mkt_data", "data", "book", "depth", "bid", "ask", "nbbo", "level1", "top_of_book", "market_update"],
        "on_bar": ["bar", "bars", "candle", "candles", "candlestick", "ohlc", "ohlcv", "kline", "klines", "realtime_bar",
                   "real_time_bar", "historical_data", "minute", "interval"],
        "on_fill": ["fill", "fills", "filled", "trade", "trades", "execution", "executions", "exec", "exec_details", "execution_report",
                    "deal", "deals", "match", "order_filled", "commission", "commission_report"],
        "on_order": ["order", "orders", "order_status", "order_update", "order_event", "open_order", "status", "ack", "order_ack"],
        "on_position": ["position", "positions", "portfolio", "holding", "holdings", "position_update", "update_portfolio"],
        "on_account": ["account", "accounts", "balance", "balances", "account_update", "account_value", "account_summary", "equity",
                       "margin", "pnl", "funds"],
        "on_error": ["error", "errors", "err", "exception", "failure", "fail", "reject", "rejected", "rejection", "warning"],
        "on_connection": ["connect", "connected", "disconnect", "disconnected", "reconnect", "reconnected", "connection_lost",
                          "connection_status"],
        "on_reload": ["reload", "reloaded", "hot_reload", "code_change", "file_change", "restart"],
        "on_start": ["init", "initialize", "initialise", "setup", "set_up", "begin", "started", "ready", "load", "loaded", "launch",
                     "boot", "startup", "start_up"],
        "on_stop": ["stop", "stopped", "exit", "shutdown", "shut_down", "finish", "finished", "end", "teardown", "tear_down", "close",
                    "quit", "halt", "destroy", "cleanup", "dispose", "terminate"],
    ]

    /// The warning for a global function `name` that is not one of `handlers` but reads as
    /// one, or nil for a helper. A name spelled `on_...` is always flagged (with a guess when
    /// one is close); one spelled otherwise (`onQuote`, `OnTick`, `onquote`) only when it is
    /// a handler's words in another form or means one: `onTimer`, a callback handed to
    /// `timer.every`, is no mistake.
    static func warning(for name: String, handlers: [String]) -> String? {
        guard !handlers.contains(name) else { return nil }
        let guess = suggestion(for: name, handlers: handlers)
        guard name.hasPrefix("on_") || guess.map({ $0.kind != .spelling }) == true else { return nil }
        let hint = guess.map { "; did you mean \($0.handler)?" + ($0.kind == .form ? " (handler names are lower case with underscores)" : "") } ?? ""
        return "\(name) is not a handler Moonwire calls\(hint) (handlers: \(handlers.joined(separator: ", ")))"
    }

    enum Kind: Equatable {
        /// The same words in another case or spelling: onQuote, OnQuote, ON_QUOTE, onquote.
        case form
        /// A word other platforms use for the event: on_tick, on_trade, on_candle.
        case meaning
        /// A typo: on_qoute, on_fil.
        case spelling
    }

    /// The handler `name` was most likely meant to be, and how it was found, or nil when
    /// nothing is close.
    static func suggestion(for name: String, handlers: [String]) -> (handler: String, kind: Kind)? {
        var words = self.words(of: name)
        if words.first != "on" {
            // ONQUOTE, Onquote: no word boundary to split at; the rest after "on" is one word.
            let lower = name.lowercased()
            guard lower.hasPrefix("on"), lower.count > 2 else { return nil }
            words = ["on", String(lower.dropFirst(2))]
        }
        let rest = words.dropFirst().joined(separator: "_")
        let normalized = "on_" + rest
        if handlers.contains(normalized) { return (normalized, .form) }
        // By meaning: the whole name, then without a trailing "s".
        let singular = rest.hasSuffix("s") ? String(rest.dropLast()) : rest
        for candidate in [rest, singular] {
            if let handler = meaning(of: candidate) { return (handler, .meaning) }
        }
        // By spelling (on_qoute, on_fil), then by the first word that means an event
        // (on_new_bar), then by looser spelling.
        let nearest = handlers.min { StrategyCheck.distance($0, normalized) < StrategyCheck.distance($1, normalized) }
        if let nearest, StrategyCheck.distance(nearest, normalized) <= 2 { return (nearest, .spelling) }
        for word in words.dropFirst() {
            if let handler = meaning(of: word) { return (handler, .meaning) }
        }
        if let nearest, StrategyCheck.distance(nearest, normalized) <= 3 { return (nearest, .spelling) }
        return nil
    }

    private static func meaning(of words: String) -> String? {
        synonyms.keys.sorted().first { synonyms[$0]!.contains(words) }
    }

    /// `onQuoteUpdate` → [on, quote, update]; `ON_QUOTE` → [on, quote]; `on__tick` → [on, tick].
    static func words(of name: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previous: Character?
        for character in name {
            if character == "_" || character == "-" {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else if character.isUppercase, let previous, previous.isLowercase || previous.isNumber {
                if !current.isEmpty { words.append(current) }
                current = String(character).lowercased()
            } else {
                current += character.lowercased()
            }
            previous = character
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
