-- attack: a C function that never returns to the VM (no hook can stop it)
-- expect: declared hung
-- test-api
-- params: block_seconds=60
function on_start() print("blocking in C") testing.block_in_c(params.block_seconds or 4) end
