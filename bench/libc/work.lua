-- CPU-bound Lua for bench/libc_bench.py: calls, tables, strings, number formatting, maths.
local n = tonumber(...) or 1
local function fib(k) if k < 2 then return k end return fib(k - 1) + fib(k - 2) end
local acc = 0
for round = 1, n do
  acc = acc + fib(24)
  local t = {}
  for i = 1, 20000 do t[i] = (i * 7919) % 10007 end
  table.sort(t)
  local parts = {}
  for i = 1, 5000 do parts[#parts + 1] = string.format("%d:%.6g", i, math.sqrt(i) * 1.5) end
  local s = table.concat(parts, ",")
  local count = 0
  for w in s:gmatch("%d+:") do count = count + 1 end
  acc = acc + count + #s + t[100]
  for i = 1, 20000 do acc = acc + math.sin(i) * math.exp(-i / 20000) + tostring(i / 7):len() end
end
print(string.format("%.10g", acc))
