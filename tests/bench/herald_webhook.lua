-- wrk script: POSTs Alertmanager v4 payloads to heraldd. Every request
-- carries one new alert (a unique fingerprint) in one of 32 alert groups, so
-- each 2xx is a real durable write, never a dedup no-op. Several wrk at once
-- (one per heraldd replica) each set HERALD_BENCH_THREAD_BASE to their first
-- thread's number, so that their fingerprints differ too.
local counter = 0
local thread_id = 0
local threads = {}
local thread_base = tonumber(os.getenv("HERALD_BENCH_THREAD_BASE") or "0")

function setup(thread)
  thread:set("id", thread_base + #threads)
  table.insert(threads, thread)
end

function init(args)
  thread_id = id
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("HERALD_WEBHOOK_TOKEN")
end

local template = [[{"receiver":"herald","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"BenchAlert","service":"svc-%d","instance":"i-%d-%d","severity":"critical"},"annotations":{"summary":"bench %d"},"startsAt":"2026-11-23T05:07:55.261890628Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom/graph","fingerprint":"t%d-%d"}],"groupLabels":{"alertname":"BenchAlert","service":"svc-%d"},"commonLabels":{"alertname":"BenchAlert","service":"svc-%d"},"commonAnnotations":{"summary":"bench %d"},"externalURL":"http://am","version":"4","groupKey":"{}:{alertname=\"BenchAlert\", service=\"svc-%d\"}","truncatedAlerts":0}]]

function request()
  counter = counter + 1
  local group = (thread_id * 8 + counter) % 32
  local body = string.format(template, group, thread_id, counter, group, thread_id, counter,
                             group, group, group, group)
  return wrk.format("POST", "/webhooks/alertmanager", nil, body)
end
