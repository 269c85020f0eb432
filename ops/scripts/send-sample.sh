#!/usr/bin/env bash
# Posts one correctly signed sample message to a running smshook, as the provider would, and prints the answer.
# Usage: send-sample.sh PROVIDER BASE_URL SECRET [FROM_NUMBER]
#   PROVIDER: legacy (Standard Webhooks, whsec_ secret) | legacy-token | smsmobileapi | twilio | android-sms-gateway
#   BASE_URL: what the provider calls, e.g. https://hooks.example.com (for Twilio: exactly SMSHOOK_PUBLIC_BASE_URL)
# Needs bash, curl and openssl. Exits 0 when smshook answers 2xx.
set -euo pipefail
provider=${1:?usage: send-sample.sh PROVIDER BASE_URL SECRET [FROM_NUMBER]}
base=${2:?base URL}
secret=${3:?secret}
from=${4:-+15550100000}
base=${base%/}
ts=$(date +%s)
id="sample-$ts-$RANDOM"
hmac_hex() { openssl dgst -sha256 -hmac "$1" | sed 's/^.*= //'; }            # key as text, message on stdin
hmac_b64_hexkey() { openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -binary | base64 -w0; }
case "$provider" in
legacy)
    body="{\"message\":\"Yes\",\"number\":\"$from\",\"guid\":\"$id\"}"
    key=$(printf '%s' "${secret#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
    sig=$(printf '%s' "$id.$ts.$body" | hmac_b64_hexkey "$key")
    set -- -H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" \
        -H 'Content-Type: application/json' --data-binary "$body" "$base/api/webhook/sms-received" ;;
legacy-token)
    body="{\"message\":\"Yes\",\"number\":\"$from\",\"guid\":\"$id\"}"
    set -- -H "Authorization: Bearer $secret" -H 'Content-Type: application/json' --data-binary "$body" \
        "$base/api/webhook/sms-received" ;;
smsmobileapi)
    body="{\"id\":\"evt_$id\",\"type\":\"sms.received\",\"api_version\":\"2\",\"data\":{\"guid\":\"$id\",\"from\":\"$from\",\"message\":\"Yes\"}}"
    sig=$(printf '%s' "$ts.$body" | hmac_hex "$secret")
    set -- -H "X-SMSMobileAPI-Timestamp: $ts" -H "X-SMSMobileAPI-Signature: v1=$sig" \
        -H 'Content-Type: application/json' --data-binary "$body" "$base/webhooks/smsmobileapi" ;;
android-sms-gateway)
    body="{\"deviceId\":\"sample\",\"event\":\"sms:received\",\"id\":\"ev-$id\",\"payload\":{\"messageId\":\"$id\",\"message\":\"Yes\",\"phoneNumber\":\"$from\",\"simNumber\":1},\"webhookId\":\"sample\"}"
    sig=$(printf '%s%s' "$body" "$ts" | hmac_hex "$secret")
    set -- -H "X-Timestamp: $ts" -H "X-Signature: $sig" -H 'Content-Type: application/json' --data-binary "$body" \
        "$base/webhooks/android-sms-gateway" ;;
twilio)
    sid="SM${id//[^0-9a-zA-Z]/}"
    enc_from=${from//+/%2B}
    # Twilio signs the URL followed by every POST parameter's name and value, sorted by name
    sig=$(printf '%s' "$base/webhooks/twilioAccountSidACsampleBodyYesFrom${from}MessageSid${sid}NumMedia0To+15550109999" |
        openssl dgst -sha1 -hmac "$secret" -binary | base64 -w0)
    set -- -H "X-Twilio-Signature: $sig" -H 'Content-Type: application/x-www-form-urlencoded' \
        --data-binary "AccountSid=ACsample&Body=Yes&From=$enc_from&MessageSid=$sid&NumMedia=0&To=%2B15550109999" \
        "$base/webhooks/twilio" ;;
*) echo "unknown provider '$provider'" >&2; exit 2 ;;
esac
out=$(curl -sS -w '\n%{http_code}' "$@")
status=${out##*$'\n'}
echo "${out%$'\n'*}"
echo "HTTP $status"
[ "${status:0:1}" = 2 ]
