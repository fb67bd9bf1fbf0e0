-- Trades on a signal the application computes in Swift: `signals.latest(symbol)` reads it,
-- `on_signal` hears when it crosses a threshold (the application posts that event).

local symbol = params.symbol or "AAPL"

function on_start()
  market.subscribe(symbol)
  log.info("following the application's signal for " .. symbol)
end

function on_signal(sym, strength)
  if sym ~= symbol then return end
  local held = account.position(symbol)
  local qty = held and held.qty or 0
  if strength > 0.5 and qty <= 0 and #orders.open() == 0 then
    local id, err = orders.buy(symbol, 10)
    log.info(string.format("signal %.2f: buy 10 -> %s", strength, id or err.message))
  elseif strength < -0.5 and qty > 0 and #orders.open() == 0 then
    local id, err = orders.sell(symbol, qty)
    log.info(string.format("signal %.2f: sell %g -> %s", strength, qty, id or err.message))
  end
end

function on_quote(q)
  -- The latest value, read any time (a Swift function answering at once).
  local value = signals.latest(symbol)
  if value and math.abs(value) > 0.9 then store.strong = (store.strong or 0) + 1 end
end

function on_fill(f)
  log.info(string.format("filled %s %g %s at %.2f", f.side, f.qty, f.symbol, f.price))
  -- A waiting call: this handler pauses, other events go on, then it resumes with the answer.
  local note = signals.explain(f.symbol)
  log.info("the application says: " .. note)
end
