-- attack: store as a DAG of 19 small tables, each referencing the next twice: 2^19 entries for the host's copy
-- expect: store: value has more than 100000 table entries
function on_start()
  local t = { leaf = true }
  for i = 1, 18 do t = { a = t, b = t } end
  store.dag = t
  timer.after(0.05, function() end)
end
