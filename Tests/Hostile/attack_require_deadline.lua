-- attack: require inside a handler used to disarm the caller's deadline
-- expect: module doubled 42
-- expect: time budget exceeded
function on_start()
  local m = require("hostile_module")
  print("module doubled " .. m.double(21))
  while true do end
end
