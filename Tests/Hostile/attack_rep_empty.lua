-- attack: string.rep('', math.maxinteger) looped forever in C before
-- expect: rep returned 0 bytes
function on_start()
  local s = string.rep('', math.maxinteger)
  print("rep returned " .. #s .. " bytes")
end
