-- hello.lua: the smallest strategy. It subscribes to quotes and logs them.
--
--   moonwire run Strategies/hello.lua --duration 10
--
-- Every handler is optional; Moonwire calls the ones you define.

-- Parameters come from Config/moonwire.yaml (params:) or the command line
-- (--param symbol=MSFT). `params.symbol or "AAPL"` gives a default.
local symbol = params.symbol or "AAPL"
local seen = 0

-- on_start runs once, after the connection is up and the state is synchronized.
function on_start()
  log.info("watching " .. symbol)
  market.subscribe(symbol, { quotes = true })
end

-- on_quote gets the latest quote. If the strategy falls behind, quotes for a symbol are
-- coalesced to the newest one (order and fill events never are).
function on_quote(q)
  seen = seen + 1
  if seen % 20 == 1 then
    log.info(string.format("%s bid %.2f ask %.2f last %.2f (quote %d)", q.symbol, q.bid or 0, q.ask or 0, q.last or 0, seen))
  end
  store.quotes_seen = (store.quotes_seen or 0) + 1   -- `store` survives reloads and restarts
end

function on_stop()
  log.info("saw " .. seen .. " quotes")
end
