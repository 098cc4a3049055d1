-- Shared by the load scripts: prints wrk's summary as one `RESULT key=value ...` line that
-- scripts/load_test.sh parses (latencies in milliseconds).
return function(summary, latency)
   local seconds = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d seconds=%.1f rps=%.2f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f " ..
      "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d status_4xx_5xx=%d\n",
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
      e.connect, e.read, e.write, e.timeout, e.status))
end
