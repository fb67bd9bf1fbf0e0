---@meta moonwire
-- LuaLS definitions of the Moonwire strategy API, so editors autocomplete and type-check
-- strategies. Add this folder to `workspace.library` (Strategies/.luarc.json does).

---@class Quote
---@field symbol string
---@field bid number?
---@field ask number?
---@field last number?
---@field bid_size number?
---@field ask_size number?
---@field last_size number?
---@field volume number?
---@field time number   epoch seconds of the last trade
---@field open number?   the day's open (ticks 14 / 76)
---@field high number?   the day's high (6 / 72)
---@field low number?    the day's low (7 / 73)
---@field close number?  the previous day's close (9 / 75)
---@field stale boolean? true while the link to IB is down (1100)
---@field delayed boolean? true for delayed data (market data type 3 or 4)
---@field halted boolean? true while TWS says trading is halted (tick 49)

---@class Bar
---@field symbol string
---@field size string   "5 secs", "1 min", ...
---@field time number|string  epoch seconds (live bars) or IB's date text (history)
---@field open number
---@field high number
---@field low number
---@field close number
---@field volume number?
---@field wap number?
---@field count integer

---@alias OrderStatus "pending"|"submitted"|"filled"|"cancelled"|"rejected"|"inactive"|"unknown"

---@class OrderInfo
---@field id integer
---@field symbol string
---@field side "BUY"|"SELL"
---@field qty number
---@field type "MKT"|"LMT"|"STP"|"STP LMT"
---@field limit number?
---@field stop number?
---@field tif "DAY"|"GTC"
---@field status OrderStatus
---@field filled number
---@field remaining number
---@field avg_price number?
---@field reason string?

---@class Fill
---@field order_id integer
---@field exec_id string
---@field symbol string
---@field side "BUY"|"SELL"
---@field qty number
---@field price number
---@field time string  as TWS writes it, with its zone: "20240102 09:30:00 US/Eastern" (TWS's own zone); "20240102 14:30:00 UTC" in a backtest
---@field commission number?  IB's commission (waited for up to 0.5 s); nil when it did not come in time
---@field corrects string?  an execution correction: the exec_id of the execution it replaces

---@class Position
---@field symbol string
---@field qty number        the strategy's own position (its own fills)
---@field avg_cost number
---@field account_qty number? the account's total in the symbol (all strategies, other clients, manual trades)

---@class AccountInfo
---@field net_liquidation number?
---@field cash number?
---@field buying_power number?
---@field unrealized_pnl number?
---@field realized_pnl number?

---@class Failure
---@field code string
---@field message string

---@class ErrorEvent
---@field code string
---@field message string
---@field order_id integer?

---@class OrderOptions
---@field limit number?
---@field stop number?
---@field tif "DAY"|"GTC"?
---@field outside_rth boolean?  let the order work outside regular trading hours (default false)
---@field type "MKT"|"LMT"|"STP"|"STP LMT"?
---@field trail number?          a trailing stop, this far behind the market
---@field trail_percent number?  a trailing stop, this percent behind the market
---@field oca string?            one-cancels-all group name
---@field oca_type "cancel"|"reduce"|"reduce_block"?

---@alias Instrument string|{ symbol: string, type: "STK"|"FUT"|"CASH"|"IND"|"OPT"|"CONTFUT"?, exchange: string?, currency: string?, expiry: string?, strike: number?, right: "C"|"P"?, multiplier: number?, con_id: integer? }

market = {}
---@param symbol Instrument
---@param options { quotes: boolean?, bars: string? }?
---@return boolean
function market.subscribe(symbol, options) end
---@param symbol Instrument
function market.unsubscribe(symbol) end
---@param symbol Instrument
---@return Quote?
function market.quote(symbol) end
--- Waits (suspends this handler) until TWS answers; other events keep coming meanwhile.
---@param symbol Instrument
---@param options { duration: string?, bar: string?, what: string? }?
---@return Bar[]?, Failure?
function market.history(symbol, options) end
---@param symbol Instrument
---@return table?, Failure?
function market.contract(symbol) end

orders = {}
--- No limit/stop: market; limit: LMT; stop: STP; both: STP LMT. Every order passes the risk gate.
---@param symbol Instrument
---@param qty number
---@param options OrderOptions?
---@return integer?, Failure?
function orders.buy(symbol, qty, options) end
---@param symbol Instrument
---@param qty number
---@param options OrderOptions?
---@return integer?, Failure?
function orders.sell(symbol, qty, options) end
---@param order { symbol: Instrument, side: "BUY"|"SELL", qty: number, type: string?, limit: number?, stop: number?, tif: string? }
---@return integer?, Failure?
function orders.place(order) end
--- An entry with a take-profit and a stop-loss, sent as one IB bracket; the risk gate checks all three.
---@param instrument Instrument
---@param qty number
---@param legs { entry: number?, take_profit: number, stop_loss: number, side: "BUY"|"SELL"?, tif: "DAY"|"GTC"? }
---@return { parent: integer, take_profit: integer, stop_loss: integer }?, Failure?
function orders.bracket(instrument, qty, legs) end
---@param id integer
---@param changes { qty: number?, limit: number?, stop: number? }
---@return boolean?, Failure?
function orders.modify(id, changes) end
---@param id integer
---@return boolean?, Failure?
function orders.cancel(id) end
---@return integer
function orders.cancel_all() end
---@param id integer
---@return OrderInfo?
function orders.get(id) end
---@return OrderInfo[]
function orders.open() end

account = {}
---@param symbol Instrument
---@return Position?  nil when flat
function account.position(symbol) end
---@return Position[]
function account.positions() end
---@param symbol Instrument
---@return number  the account's total position, 0 when none
function account.account_position(symbol) end
---@return table<string, number|string>
function account.values() end
---@return { daily: number?, unrealized: number?, realized: number? }
function account.pnl() end

timer = {}
---@param seconds number  0.001 to 31622400 (366 days); else nil, { code = "invalid_argument" }
---@param fn fun()
---@return integer
function timer.after(seconds, fn) end
---@param seconds number  0.001 to 31622400 (366 days); else nil, { code = "invalid_argument" }
---@param fn fun()
---@return integer
function timer.every(seconds, fn) end
---@param id integer
---@return boolean
function timer.cancel(id) end

log = {}
function log.info(...) end
function log.warn(...) end
function log.error(...) end

---@type table<string, string|number|boolean>
params = {}
--- Survives hot reloads and restarts (journaled).
---@type table
store = {}
---@return number seconds since the epoch, fractional
function now() end

-- Handlers (define the ones you need):
---@type fun()?
on_start = nil
---@type fun(q: Quote)?
on_quote = nil
---@type fun(b: Bar)?
on_bar = nil
---@type fun(o: OrderInfo)?
on_order = nil
---@type fun(f: Fill)?
on_fill = nil
---@type fun(p: Position)?
on_position = nil
---@type fun(a: AccountInfo)?
on_account = nil
---@type fun(e: ErrorEvent)?
on_error = nil
---@type fun(state: "lost"|"restored"|"connected")?
on_connection = nil
---@type fun(store: table)?
on_reload = nil
---@type fun()?
on_stop = nil
