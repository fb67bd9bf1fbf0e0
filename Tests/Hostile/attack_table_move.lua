-- attack: table.move over 2^63 nils (no allocation, so no memory cap either)
-- expect: time budget exceeded
function on_start() table.move({}, 1, math.maxinteger - 1, 2) end
