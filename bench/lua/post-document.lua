-- POST one small document per request (issue #6: single-document writes, synchronous=FULL).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"bench document","n":42,"tag":"t7","tags":["a","b"],"nested":{"x":1.5}}'
