-- attack: a timer at the top level of the file
-- expect: timer.every can only be called from a handler
-- exit: 1
timer.every(1, function() end)
