-- wrk script: every request takes the next pixel path from $PATHS_FILE (one per line), so the load spreads
-- over many distinct tokens / recipient copies instead of hammering one.
local paths = {}
for line in io.lines(os.getenv("PATHS_FILE")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  if i > #paths then i = 1 end
  return wrk.format("GET", paths[i], { ["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.3.1" })
end
done = function(summary, latency, requests)
  local bad = summary.errors.status
  io.write(string.format("answered=%d non2xx=%d socket_errors=%d\n", summary.requests, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
