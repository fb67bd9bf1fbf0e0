-- attack: an endless loop in a coroutine the handler makes (coroutine.wrap), its error caught, then an endless loop in the handler
-- expect: time budget exceeded
function on_start()
  pcall(coroutine.wrap(function() while true do end end))
  while true do end
end
