"""Checks made through a running Prometheus's HTTP API, for metrics_test.sh.

  prom_query.py URL value QUERY EXPECTED    the instant query's single value is EXPECTED
  prom_query.py URL rules N                 N rules are loaded and every one evaluates cleanly
  prom_query.py URL dashboard FILE          every panel query of the Grafana dashboard FILE
                                            evaluates, and every herald_ metric it names has
                                            been scraped
Exit 0 when the check holds; otherwise 1, saying what was found.
"""
import json
import re
import sys
import urllib.parse
import urllib.request


def api(url, path, **params):
    query = urllib.parse.urlencode(params)
    with urllib.request.urlopen(f"{url}/api/v1/{path}?{query}", timeout=10) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise SystemExit(f"{path} {params}: {body}")
    return body["data"]


def check_value(url, query, expected):
    result = api(url, "query", query=query)["result"]
    if len(result) != 1:
        raise SystemExit(f"{query}: {len(result)} series: {result}")
    value = float(result[0]["value"][1])
    if value != float(expected):
        raise SystemExit(f"{query} = {value}, want {expected}")


def check_rules(url, count):
    rules = [r for g in api(url, "rules")["groups"] for r in g["rules"]]
    bad = [r["name"] for r in rules if r.get("health") != "ok"]
    if len(rules) != count or bad:
        raise SystemExit(f"{len(rules)} rules loaded (want {count}); unhealthy: {bad}")


def check_dashboard(url, path):
    dashboard = json.load(open(path))
    scraped = set(api(url, "label/__name__/values"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    if not exprs:
        raise SystemExit("the dashboard has no queries")
    for expr in exprs:
        concrete = expr.replace("$__rate_interval", "1m").replace("$job", "herald")
        api(url, "query", query=concrete)  # raises on a PromQL error
        for name in re.findall(r"\bherald_[a-z_]+", expr):
            if name not in scraped:
                raise SystemExit(f"the dashboard queries {name}, which heraldd does not export")
    print(f"{len(exprs)} dashboard queries evaluate")


def main():
    url, what, *args = sys.argv[1:]
    {"value": check_value, "rules": check_rules, "dashboard": check_dashboard}[what](
        url, *[int(a) if what == "rules" else a for a in args])


if __name__ == "__main__":
    main()
