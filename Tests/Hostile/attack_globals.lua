-- attack: tampering with the shared libraries and the string metatable
-- expect: own copy changed: true
-- expect: method calls unaffected xxx
-- expect: string metatable hidden
function on_start()
  string.upper = nil
  _G.table = nil
  -- string.upper is gone from this strategy's own copy; `table` set to nil falls back to
  -- the sandbox's base (a strategy cannot lose a library, nor take one from another).
  print("own copy changed: " .. tostring(string.upper == nil and type(table.insert) == "function"))
  print("method calls unaffected " .. ("x"):rep(3))
  print(getmetatable("") == nil and "string metatable hidden" or "string metatable reachable")
  getmetatable("").__index.rep = nil
end
