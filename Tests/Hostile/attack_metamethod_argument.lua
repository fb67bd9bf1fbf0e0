-- attack: an argument table whose __index would run on the host's behalf
-- expect: the host never ran the metamethod
function on_start()
  market.subscribe("AAPL", setmetatable({}, { __index = function() while true do end end }))
  print("the host never ran the metamethod")
end
