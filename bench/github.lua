-- wrk script: correctly signed GitHub webhook deliveries (X-Hub-Signature-256 over the raw body).
--
--   wrk -t2 -c64 -d10s --latency -s bench/github.lua URL -- REQUESTS.lua [PATH] [IDS] [ROUND]
--
-- REQUESTS.lua is written by bench/gen_requests.py: a table of {body, sig} (LuaJIT has no HMAC,
-- so signatures are precomputed). Bodies are cycled; every request gets its own
-- X-GitHub-Delivery, which GitHub does not sign, so dedup (key: auto) never folds two requests
-- into one stored event and the stored-row check in bench/run.sh stays exact. IDS "random" starts
-- each id with random digits, as GitHub's random GUIDs land all over a dedup index (tid and
-- counter keep them unique); "sequential" (the default here, bench/run.sh passes "random")
-- counts per wrk thread, so a dedup index grows at its end. ROUND (default 1) goes into every id,
-- so that the rounds of one bench/run.sh never send the same id twice.
--
-- done() prints one machine-readable "BENCH ..." line that bench/run.sh parses.

local threads = {}
local next_tid = 1

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local reqs, count, index, target, random_ids, round

function init(args)
  local file = args[1]
  if not file then
    error("usage: wrk ... -s github.lua URL -- REQUESTS.lua [PATH]")
  end
  reqs = dofile(file)
  count = #reqs
  target = args[2] or "/webhook/github"
  random_ids = args[3] == "random"
  round = tonumber(args[4] or "1") or 1
  math.randomseed((tid or 1) * 7919 + os.time())
  -- Threads start at different offsets so they do not send the same body in lock step.
  index = ((tid or 1) * 97) % count
  sent = 0  -- global: read back through thread:get() in done()
end

function request()
  index = index % count + 1
  sent = sent + 1
  local r = reqs[index]
  return wrk.format("POST", target, {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "GitHub-Hookshot/bench",
    ["X-GitHub-Event"] = "push",
    ["X-GitHub-Hook-ID"] = "123456",
    ["X-GitHub-Delivery"] = random_ids
        and string.format("%08x-%04x-4%03x-8%03x-%012x", math.random(0, 0x7fffffff),
                          math.random(0, 0xffff), tid or 0, round % 0x1000, sent)
        or string.format("%08x-%04x-4000-8000-%012x", tid or 0, round % 0x10000, sent),
    ["X-Hub-Signature-256"] = r.sig,
  }, r.body)
end

function done(summary, latency, requests)
  local sent_total = 0
  for _, t in ipairs(threads) do
    sent_total = sent_total + (t:get("sent") or 0)
  end
  local e = summary.errors
  io.write(string.format(
      "BENCH requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d " ..
      "p50_us=%d p90_us=%d p99_us=%d max_us=%d sent=%d\n",
      summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
      math.floor(latency:percentile(50)), math.floor(latency:percentile(90)),
      math.floor(latency:percentile(99)), math.floor(latency.max), sent_total))
end
