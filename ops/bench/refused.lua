-- wrk script: a webhook call an attacker would send, with a wrong token. Every one is refused with 401.
wrk.method = "POST"
wrk.path = "/api/webhook/sms-received"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer not-the-secret"
wrk.body = '{"message":"Yes","number":"+15550100000","guid":"refused-1"}'
