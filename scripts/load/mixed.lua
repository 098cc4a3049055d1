-- Phase 2 of scripts/load_test.sh: each request is one of several kinds, valid or broken,
-- and each kind has the one status it must get. Run with as many threads as connections:
-- a thread then has one connection, so its responses come back in the order of its requests
-- and each can be matched with the kind that was sent.
-- Arguments (after `--`): a PNG image, a JPEG image, the server's body limit in bytes.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local function read(path)
   local file = assert(io.open(path, "rb"))
   local data = file:read("*a")
   file:close()
   return data
end

-- Each kind: the status it must get and its share of the traffic (out of 100).
local kinds = {
   { name = "valid", status = 200, share = 40 },
   { name = "not_an_image", status = 415, share = 7 },
   { name = "truncated_jpeg", status = 400, share = 7 },
   { name = "empty_body", status = 400, share = 6 },
   { name = "oversized", status = 413, share = 6 },
   { name = "oversized_chunked", status = 413, share = 6 },
   { name = "bad_parameter", status = 400, share = 7 },
   { name = "form_upload", status = 415, share = 7 },
   { name = "wrong_path", status = 404, share = 7 },
   { name = "wrong_method", status = 405, share = 7 },
}

-- The request of each kind, built once per thread from the arguments.
local build = {}

-- wrk calls request() once on its first thread (id 1) to check that the request parses, and
-- does not send it: that call is answered with a valid request and not counted.
local checking = false

function init(args)
   -- Each thread its own reproducible sequence of kinds (`id` is set by setup).
   math.randomseed(id)
   checking = id == 1
   local png, jpeg, limit = read(args[1]), read(args[2]), tonumber(args[3])
   local noise = {}
   for i = 1, 2048 do noise[i] = string.char(math.random(0, 255)) end
   local chunk = string.rep("y", 64 * 1024)
   local chunks = {}
   for i = 1, math.ceil((limit + 256 * 1024) / #chunk) do
      chunks[i] = string.format("%x\r\n%s\r\n", #chunk, chunk)
   end
   local host = wrk.headers["Host"]
   local function post(path, contentType, body)
      return wrk.format("POST", path, { ["Host"] = host, ["Content-Type"] = contentType }, body)
   end
   build = {
      valid = post("/explain?top_k=3", "image/png", png),
      not_an_image = post("/explain", "application/octet-stream", table.concat(noise)),
      truncated_jpeg = post("/explain", "image/jpeg", jpeg:sub(1, 700)),
      empty_body = post("/explain", "image/png", ""),
      oversized = post("/explain", "image/png", string.rep("x", limit + 512 * 1024)),
      oversized_chunked = "POST /explain HTTP/1.1\r\nHost: " .. host .. "\r\nContent-Type: image/png\r\n" ..
         "Transfer-Encoding: chunked\r\n\r\n" .. table.concat(chunks) .. "0\r\n\r\n",
      bad_parameter = post("/explain?top_k=many", "image/png", png),
      form_upload = post("/explain", "multipart/form-data; boundary=x", png),
      wrong_path = post("/explain/now", "image/png", png),
      wrong_method = wrk.format("GET", "/explain", { ["Host"] = host }),
   }
end

-- Per thread: requests sent per kind and answers per "kind status" (flat tables: wrk's
-- thread:get cannot copy nested ones), answers with another status than
-- their kind's, requests sent before the previous one was answered, when the last answer came
-- (os.time()); the kind awaiting its answer.
sent, received, unexpected, lost, last = {}, {}, 0, 0, os.time()
local pending = nil

function request()
   if checking then
      checking = false
      return build.valid
   end
   if pending then lost = lost + 1 end
   local pick, k = math.random(100), nil
   for _, candidate in ipairs(kinds) do
      pick = pick - candidate.share
      k = candidate
      if pick <= 0 then break end
   end
   pending = k
   sent[k.name] = (sent[k.name] or 0) + 1
   return build[k.name]
end

function response(status, headers, body)
   last = os.time()
   local k = pending
   pending = nil
   if not k then
      unexpected = unexpected + 1
      return
   end
   local key = k.name .. " " .. status
   received[key] = (received[key] or 0) + 1
   if status ~= k.status then unexpected = unexpected + 1 end
end

local threads = {}
function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

function done(summary, latency, requests)
   report(summary, latency)
   local totals, statuses, bad, gone, stalled = {}, {}, 0, 0, 0
   for _, thread in ipairs(threads) do
      for name, n in pairs(thread:get("sent")) do totals[name] = (totals[name] or 0) + n end
      for key, n in pairs(thread:get("received")) do
         local name, status = key:match("^(%S+) (%d+)$")
         statuses[name] = statuses[name] or {}
         statuses[name][status] = (statuses[name][status] or 0) + n
      end
      bad = bad + thread:get("unexpected")
      gone = gone + thread:get("lost")
      -- A connection answered nothing for 10 s: something (the server, or wrk) stopped it.
      if os.time() - thread:get("last") > 10 then stalled = stalled + 1 end
   end
   for _, k in ipairs(kinds) do
      local parts = {}
      for got, n in pairs(statuses[k.name] or {}) do parts[#parts + 1] = got .. ":" .. n end
      table.sort(parts)
      io.write(string.format("KIND %s expected=%d sent=%d got=%s\n", k.name, k.status, totals[k.name] or 0,
         #parts > 0 and table.concat(parts, ",") or "-"))
   end
   io.write(string.format("MIXED unexpected=%d lost=%d stalled=%d\n", bad, gone, stalled))
end
