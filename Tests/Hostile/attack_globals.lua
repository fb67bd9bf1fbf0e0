-- attack: tampering with the shared libraries and the string metatable
-- expect: own copy changed
-- expect: method calls unaffected xxx
-- expect: string metatable hidden
function on_start()
  string.upper = nil
  _G.table = nil
  print("own copy changed", string.upper == nil, table == nil)
  print("method calls unaffected " .. ("x"):rep(3))
  print(getmetatable("") == nil and "string metatable hidden" or "string metatable reachable")
  getmetatable("").__index.rep = nil
end
