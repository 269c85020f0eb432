#!/usr/bin/env python3
"""The operator console in a real browser (Debian's chromium, headless, driven by selenium): log in, the dashboard's
numbers against Redis, a subscriber's timeline after a webhook, a dead job retried out of the dead list, an opt-out
added and removed; keyboard navigation, labels on every control and text contrast checked on every page; a
screenshot of each page in the output folder. Usage: console-browser.py SMSHOOK_BIN [OUTPUT_DIR]"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "ops/chaos"))
from harness import Procs, Redis, free_port, redis_cli, wait_for  # noqa: E402

try:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "selenium"], check=True)
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

TOKEN = "browser-test-token-0123456789"
# Every visible text's colour against the first opaque background behind it: the WCAG 2 contrast ratio.
CONTRAST_JS = """
function lum(c) { var m = c.match(/[\\d.]+/g).map(Number); var a = [m[0], m[1], m[2]].map(function (v) {
  v = v / 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2]; }
function bg(el) { while (el) { var c = getComputedStyle(el).backgroundColor; var m = c.match(/[\\d.]+/g);
  if (m && (m.length < 4 || Number(m[3]) > 0.5)) return c; el = el.parentElement; } return 'rgb(255, 255, 255)'; }
var worst = 21, where = '';
document.querySelectorAll('body *').forEach(function (el) {
  var own = Array.prototype.some.call(el.childNodes, function (n) { return n.nodeType === 3 && n.textContent.trim(); });
  if (!own || !el.offsetParent) return;
  var a = lum(getComputedStyle(el).color), b = lum(bg(el)); var r = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  if (r < worst) { worst = r; where = el.tagName + ' ' + el.textContent.trim().slice(0, 30); } });
return [worst, where];
"""
# Controls without a label (a <label for>, aria-label or aria-labelledby).
UNLABELLED_JS = """
return Array.prototype.filter.call(document.querySelectorAll('input, select, textarea'), function (el) {
  if (el.type === 'hidden') return false;
  return !(el.id && document.querySelector('label[for="' + el.id + '"]')) && !el.getAttribute('aria-label')
    && !el.getAttribute('aria-labelledby'); }).map(function (el) { return el.name; });
"""


def post(port, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/webhook/sms-received", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(req, timeout=10).status


def main():
    binary = os.path.abspath(sys.argv[1])
    out = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="smshook-console-"))
    os.makedirs(out, exist_ok=True)
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not chromium or not os.path.exists(driver_path):
        print("console-browser: chromium and chromium-driver are needed (apt-get install chromium chromium-driver)")
        sys.exit(1)
    procs = Procs()
    checks = []

    def check(name, ok, detail=""):
        checks.append(ok)
        print(f"  {'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""), flush=True)

    browser = None
    try:
        r = Redis(procs, "r")
        port, admin = free_port(), free_port()
        procs.start([binary, "serve", "--port", str(port), "--admin-port", str(admin)],
                    env={"REDIS_URL": r.url, "SMSHOOK_KEY_PREFIX": "smshook", "SMSHOOK_AUTH": "none", "LOG_LEVEL": "error",
                         "SMSHOOK_CONFIG": os.path.join(ROOT, "config/smshook.yaml"), "SMSHOOK_CONSOLE_TOKENS": "ops=" + TOKEN,
                         "SMSHOOK_API_TOKENS": TOKEN},
                    log="serve.log")
        assert wait_for(lambda: redis_cli(r.port, "EXISTS", "smshook:shards") == "1", 20), "serve did not start"
        base = f"http://127.0.0.1:{admin}"
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900"]:
            options.add_argument(arg)
        browser = webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver_path), options=options)
        browser.set_page_load_timeout(20)
        pages = {}

        def visit(name, path):
            browser.get(base + path)
            browser.save_screenshot(os.path.join(out, f"console-{name}.png"))
            worst, where = browser.execute_script(CONTRAST_JS)
            unlabelled = browser.execute_script(UNLABELLED_JS)
            pages[name] = (worst, where, unlabelled)
            return browser.page_source

        def text(element_id):
            return browser.find_element(By.ID, element_id).text.strip()

        # log in
        visit("login", "/console/login")
        browser.find_element(By.ID, "token").send_keys(TOKEN)
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        check("log in with a token", wait_for(lambda: browser.current_url.rstrip("/").endswith("/console"), 5), browser.current_url)

        # the dashboard's numbers are Redis's
        post(port, {"message": "yes", "number": "+15550100900", "guid": "browser-1"})
        redis_cli(r.port, "LPUSH", "smshook:replies:dead", json.dumps({"job": {"id": "browser-dead-1", "to": "+15550100901",
            "body": "Thanks", "in_reply_to": "g-dead", "intent": "affirmative", "provider": "smsmobileapi",
            "created_at": "2026-01-01T00:00:00Z", "attempt": 10}, "error": "gave up after 10 attempts: provider answered 500",
            "failed_at": "2026-01-01T00:00:00Z"}))
        redis_cli(r.port, "SADD", "smshook:optout", "+15550100902")
        # an hour of traffic in the shared per-minute series (as serve and workers write it), for the sparklines
        now = int(time.time() // 60)
        # 58 minutes: the page's 60-minute window still holds them all if a minute turns before it is read
        for m in range(now - 58, now):
            wave = 40 + int(30 * math.sin((m - now) / 6.0))
            redis_cli(r.port, "HINCRBY", f"smshook:stats:{m}", "in", wave)
            redis_cli(r.port, "HINCRBY", f"smshook:stats:{m}", "out", wave * 9 // 10)
        visit("dashboard", "/console")
        expected = {"stat-queued": redis_cli(r.port, "LLEN", "smshook:replies"),
                    "stat-dead": redis_cli(r.port, "LLEN", "smshook:replies:dead"),
                    "stat-optouts": redis_cli(r.port, "SCARD", "smshook:optout")}
        shown = {k: text(k) for k in expected}
        check("dashboard numbers match Redis", shown == expected, f"shown {shown}, Redis {expected}")
        series = {f: sum(int(redis_cli(r.port, "HGET", f"smshook:stats:{m}", f) or 0) for m in range(now - 58, now + 2))
                  for f in ("in", "out")}
        caption = browser.find_element(By.TAG_NAME, "figcaption").text
        check("the sparkline totals are Redis's per-minute counts", f"(total {series['in']})" in caption
              or f"(total {series['in'] - 1})" in caption, f"{caption} vs {series}")

        # the whole loop for one subscriber: a question sent through the API, the worker sends it, the answer arrives
        procs.start([binary, "worker"], env={"REDIS_URL": r.url, "SMSHOOK_PROVIDER": "console", "LOG_LEVEL": "error",
                                             "SMSHOOK_CONFIG": os.path.join(ROOT, "config/smshook.yaml")}, log="worker.log")
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/messages", method="POST", data=json.dumps(
            {"to": "+15550100900", "body": "Can you take the 9am shift? Reply YES or NO"}).encode(),
            headers={"Content-Type": "application/json", "Authorization": "Bearer " + TOKEN})
        check("a question sent through the API", urllib.request.urlopen(req, timeout=10).status == 202)
        wait_for(lambda: redis_cli(r.port, "LLEN", "smshook:replies") == "0", 10)
        post(port, {"message": "Yes, I can", "number": "+15550100900", "guid": "browser-2"})
        wait_for(lambda: redis_cli(r.port, "XRANGE", "smshook:audit", "-", "+").count("event\nsend") >= 3, 10)

        # find a subscriber's timeline after posting a webhook
        visit("messages", "/console/messages")
        search = browser.find_element(By.ID, "q")
        search.send_keys("+1 555 010 0900")
        search.send_keys(Keys.ENTER)
        wait_for(lambda: "/console/numbers/" in browser.current_url, 5)
        page = visit("timeline", browser.current_url.replace(base, ""))
        check("the timeline shows the webhook's message and its decision", "browser-1" in page or ("yes" in page and "queued" in page))
        browser.find_element(By.LINK_TEXT, "raw").click()
        visit("record", browser.current_url.replace(base, ""))
        check("a row links to its raw record", "+15550100900" in browser.page_source and "Audit entry" in browser.page_source)

        # retry a dead job and see it leave the dead list
        visit("dead", "/console/dead")
        browser.find_element(By.CSS_SELECTOR, "button[name=retry_one][value=browser-dead-1]").click()
        wait_for(lambda: "requeued" in browser.page_source, 5)
        check("a retried dead job leaves the dead list", redis_cli(r.port, "LLEN", "smshook:replies:dead") == "0"
              and "browser-dead-1" not in browser.find_element(By.TAG_NAME, "table").text)
        check("and is queued again (and sent by the worker)", wait_for(lambda: "browser-dead-1" in redis_cli(
            r.port, "LRANGE", "smshook:replies", 0, -1) + redis_cli(r.port, "XRANGE", "smshook:audit", "-", "+"), 5))

        # add and remove an opt-out
        visit("optouts", "/console/optouts")
        for action in ("add", "remove"):
            browser.find_element(By.ID, "number").send_keys("+15550100903")
            browser.find_element(By.ID, "reason").send_keys("browser test")
            browser.find_element(By.CSS_SELECTOR, f"button[name=action][value={action}]").click()
            want = "1" if action == "add" else "0"
            changed = wait_for(lambda: redis_cli(r.port, "SISMEMBER", "smshook:optout", "+15550100903") == want, 5)
            said = "opted out" if action == "add" else "opted back in"
            check(f"opt-out {action}", changed and wait_for(lambda: said in browser.page_source, 5))
        visit("config", "/console/config?try=si%20claro")
        check("the classifier box answers", "affirmative" in browser.page_source and ">es<" in browser.page_source)

        # keyboard: the first Tab reaches the skip link, Enter on it moves to the main content
        browser.get(base + "/console")
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        active = browser.switch_to.active_element
        check("the first Tab reaches 'Skip to content'", active.text == "Skip to content", active.text)
        nav = [browser.switch_to.active_element.send_keys(Keys.TAB) or browser.switch_to.active_element.text for _ in range(5)]
        check("Tab walks the navigation in order", nav == ["Dashboard", "Messages", "Dead jobs", "Opt-outs", "Config"], str(nav))
        visit("dashboard", "/console")  # again, with the worker running (the screenshot of record)
        rows = browser.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=workers] tbody tr")
        check("the running worker is listed with its heartbeat", len(rows) == 1 and "expired" not in rows[0].text
              and "No worker" not in rows[0].text, rows[0].text if rows else "no rows")
        audit = redis_cli(r.port, "XRANGE", "smshook:audit", "-", "+")
        check("actions are audited", all(a in audit for a in ("dead_retry", "login", "browser test")))
        for name, (worst, where, unlabelled) in sorted(pages.items()):
            check(f"{name}: every control labelled", not unlabelled, str(unlabelled))
            check(f"{name}: text contrast >= 4.5:1 (lowest {worst:.2f})", worst >= 4.5, where)
    except Exception as e:  # a crash of the test is a failure, reported
        check("browser test ran", False, repr(e))
    finally:
        if browser:
            browser.quit()
        procs.stop_all()
    print(f"console-browser: screenshots in {out}")
    print(f"console-browser: {sum(checks)} passed, {len(checks) - sum(checks)} failed")
    sys.exit(0 if checks and all(checks) else 1)


if __name__ == "__main__":
    main()
