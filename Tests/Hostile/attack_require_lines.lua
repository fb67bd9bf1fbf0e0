-- attack: errors inside a required module must name its real line
-- expect: hostile_module.lua:4: raised in the module
function on_start() require("hostile_module").where() end
