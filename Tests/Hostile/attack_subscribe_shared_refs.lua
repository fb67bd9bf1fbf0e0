-- attack: an options table holding 500 references to one 20 MB string (the host copied every one)
-- expect: market.subscribe: argument 2 (options): value larger than the memory cap (64 MiB) at options[
-- budget_ms: 1000
function on_start()
  local s = string.rep("x", 20e6)
  local options = { quotes = true }
  for i = 1, 500 do options[i] = s end
  market.subscribe("AAPL", options)
end
