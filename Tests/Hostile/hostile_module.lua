-- A module for the require attacks: it returns functions (real Lua values cross require).
local M = {}
function M.double(x) return 2 * x end
function M.where() error("raised in the module") end
return M
