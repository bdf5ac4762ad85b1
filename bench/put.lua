-- wrk script: PUT/POST a ~100-byte JSON document to a distinct key per request,
-- and count non-2xx responses (reported in done()).
--
--   wrk ... -s bench/put.lua URL -- vault <body-file>
--       PUT <URL path>/w/<thread>-<n>  body = file contents   (Vault KV v1)
--   wrk ... -s bench/put.lua URL -- etcd <body-file>
--       POST /v3/kv/put  {"key": b64("bench/<thread>/<n>"), "value": b64(file)}  (etcd JSON gateway)
--
-- Headers (token, content type) come from wrk's -H options (wrk.headers).
-- Note: wrk calls request() once before the run and discards it, so counter 1 is never sent.

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(n / 262144) % 64
    local c2 = math.floor(n / 4096) % 64
    local c3 = math.floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = B64:sub(c1 + 1, c1 + 1) .. B64:sub(c2 + 1, c2 + 1)
      .. (b and B64:sub(c3 + 1, c3 + 1) or "=") .. (c and B64:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

local mode, doc, doc_b64, base
local counter = 0
non2xx = 0
responses = 0
first_err = nil

function init(args)
  mode = args[1]
  local f = assert(io.open(args[2], "rb"), "cannot open body file " .. tostring(args[2]))
  doc = f:read("*a"):gsub("%s+$", "")
  f:close()
  doc_b64 = b64(doc)
  base = wrk.path:gsub("/+$", "")
  if mode ~= "vault" and mode ~= "etcd" then error("mode must be vault or etcd") end
end

function request()
  counter = counter + 1
  if mode == "vault" then
    return wrk.format("PUT", base .. "/w/" .. tid .. "-" .. counter, nil, doc)
  else
    local key = "bench/" .. tid .. "/" .. counter
    local body = '{"key":"' .. b64(key) .. '","value":"' .. doc_b64 .. '"}'
    return wrk.format("POST", "/v3/kv/put", nil, body)
  end
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_err == nil then
      first_err = tostring(status) .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local bad, total = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    total = total + (t:get("responses") or 0)
    local e = t:get("first_err")
    if e then print("LUA_FIRST_ERROR thread " .. tostring(t:get("tid")) .. ": " .. e) end
  end
  print(string.format("LUA_RESPONSES %d", total))
  print(string.format("LUA_NON2XX %d", bad))
end
