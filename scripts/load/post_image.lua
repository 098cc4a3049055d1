-- Phase 1 of scripts/load_test.sh: every request POSTs the same image to the URL's path.
-- Arguments (after `--`): the image file and its Content-Type.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

function init(args)
   local file = assert(io.open(args[1], "rb"))
   wrk.method = "POST"
   wrk.body = file:read("*a")
   file:close()
   wrk.headers["Content-Type"] = args[2]
end

function done(summary, latency, requests)
   report(summary, latency)
end
