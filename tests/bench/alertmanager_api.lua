-- wrk script: the baseline. POSTs one new alert per request to
-- Alertmanager's own POST /api/v2/alerts, the same load shape as
-- herald_webhook.lua.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  thread_id = id
  wrk.headers["Content-Type"] = "application/json"
end

local template = [=[[{"labels":{"alertname":"BenchAlert","service":"svc-%d","instance":"i-%d-%d","severity":"critical"},"annotations":{"summary":"bench"},"generatorURL":"http://prom/graph"}]]=]

function request()
  counter = counter + 1
  local group = (thread_id * 8 + counter) % 32
  return wrk.format("POST", "/api/v2/alerts", nil, string.format(template, group, thread_id, counter))
end
