/// The console's pages (Mustache), stylesheet and script, embedded: no file or CDN is needed at run time.
enum ConsoleTemplates {
    static let header = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · smshook console</title>
        <link rel="stylesheet" href="/console/assets/console.css">
        <script src="/console/assets/console.js" defer></script>
        </head>
        <body{{#refresh}} data-refresh="{{refresh}}"{{/refresh}}>
        <a class="skip" href="#main">Skip to content</a>
        <header>
        <span class="brand">smshook console</span>
        {{#user}}
        <nav aria-label="Main">
        <a href="/console"{{#nav_dashboard}} aria-current="page"{{/nav_dashboard}}>Dashboard</a>
        <a href="/console/messages"{{#nav_messages}} aria-current="page"{{/nav_messages}}>Messages</a>
        <a href="/console/dead"{{#nav_dead}} aria-current="page"{{/nav_dead}}>Dead jobs</a>
        <a href="/console/optouts"{{#nav_optouts}} aria-current="page"{{/nav_optouts}}>Opt-outs</a>
        <a href="/console/config"{{#nav_config}} aria-current="page"{{/nav_config}}>Config</a>
        </nav>
        <form method="post" action="/console/logout" class="logout">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <span>{{user}}</span> <button type="submit">Log out</button>
        </form>
        {{/user}}
        </header>
        <main id="main">
        <h1>{{title}}</h1>
        {{#flash}}<p class="flash" role="status">{{flash}}</p>{{/flash}}
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        """

    static let footer = """
        </main>
        </body>
        </html>
        """

    static let login = """
        {{> header}}
        <form method="post" action="/console/login" class="card">
        <input type="hidden" name="csrf" value="{{login_csrf}}">
        <h2>With a token</h2>
        <p><label for="token">Console token</label><br><input id="token" name="token" type="password" autocomplete="off"></p>
        <h2>Or as a user</h2>
        <p><label for="username">User name</label><br><input id="username" name="username" autocomplete="username"></p>
        <p><label for="password">Password</label><br><input id="password" name="password" type="password" autocomplete="current-password"></p>
        <p><button type="submit">Log in</button></p>
        </form>
        {{> footer}}
        """

    static let dashboard = """
        {{> header}}
        <section aria-labelledby="traffic"><h2 id="traffic">Last hour</h2>
        <div class="cards">
        <figure class="card"><figcaption>Messages in per minute (total {{in_total}})</figcaption>{{{in_svg}}}</figure>
        <figure class="card"><figcaption>Replies out per minute (total {{out_total}})</figcaption>{{{out_svg}}}</figure>
        </div></section>
        <section aria-labelledby="queues"><h2 id="queues">Queues</h2>
        <dl class="stats">
        <div><dt>Queued replies</dt><dd id="stat-queued">{{stats.queued}}</dd></div>
        <div><dt>Oldest queued (s)</dt><dd id="stat-oldest">{{oldest}}</dd></div>
        <div><dt>In flight</dt><dd id="stat-processing">{{stats.processing}}</dd></div>
        <div><dt>Retries due now / later</dt><dd id="stat-retry">{{stats.retryDueNow}} / {{stats.retryLater}}</dd></div>
        <div><dt>Dead jobs</dt><dd id="stat-dead"><a href="/console/dead">{{stats.dead}}</a></dd></div>
        <div><dt>Opted-out numbers</dt><dd id="stat-optouts"><a href="/console/optouts">{{stats.optOuts}}</a></dd></div>
        </dl></section>
        <section aria-labelledby="workers"><h2 id="workers">Workers</h2>
        <table><caption>Registered workers</caption>
        <thead><tr><th scope="col">Worker</th><th scope="col">Heartbeat age (s)</th><th scope="col">Jobs in flight</th></tr></thead>
        <tbody>{{#workers}}<tr><td>{{id}}</td><td>{{age}}</td><td>{{processing}}</td></tr>{{/workers}}
        {{^workers}}<tr><td colspan="3">No worker is registered.</td></tr>{{/workers}}</tbody></table></section>
        {{#has_endpoints}}
        <section aria-labelledby="endpoints"><h2 id="endpoints">Event endpoints</h2>
        <table><caption>Events waiting per endpoint</caption>
        <thead><tr><th scope="col">Endpoint</th><th scope="col">Queued</th><th scope="col">Retrying</th><th scope="col">Dead</th><th scope="col">State</th></tr></thead>
        <tbody>{{#endpoints}}<tr><td>{{name}}</td><td>{{queued}}</td><td>{{retrying}}</td><td>{{dead}}</td><td>{{state}}</td></tr>{{/endpoints}}</tbody></table></section>
        {{/has_endpoints}}
        <p class="note">Refreshes every 10 seconds while this tab is visible.</p>
        {{> footer}}
        """

    static let messages = """
        {{> header}}
        <form method="get" action="/console/messages" class="search" role="search">
        <p><label for="q">Number or message id (guid)</label><br><input id="q" name="q" value="{{q}}"></p>
        <p><label for="intent">Or recent messages with intent</label><br><select id="intent" name="intent">
        <option value="">(any)</option>{{#intents}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/intents}}</select></p>
        <p><button type="submit">Search</button></p>
        </form>
        {{#has_rows}}{{> rows}}{{/has_rows}}
        {{#searched}}{{^has_rows}}<p>Nothing found.</p>{{/has_rows}}{{/searched}}
        {{> footer}}
        """

    /// A table of timeline or search rows, newest first.
    static let rows = """
        <table><caption>{{caption}}</caption>
        <thead><tr><th scope="col">Time</th><th scope="col">What</th><th scope="col">Number</th><th scope="col">Text</th><th scope="col">Intent</th><th scope="col">Decision / outcome</th><th scope="col">Record</th></tr></thead>
        <tbody>{{#rows}}<tr><td>{{at}}</td><td>{{kind}}</td><td>{{#number}}<a href="/console/numbers/{{number_path}}">{{number}}</a>{{/number}}</td><td>{{text}}</td><td>{{intent}}</td><td>{{decision}}</td><td><a href="{{link}}">raw</a></td></tr>{{/rows}}</tbody>
        </table>
        {{#more}}<p class="note">Showing the newest {{shown}}; older entries are in <code>smshook audit tail</code>.</p>{{/more}}
        """

    static let timeline = """
        {{> header}}
        <p>Everything recorded for <strong>{{number}}</strong>: inbound messages with their intent and decision, replies
        and their send outcomes, messages sent through the API, opt-out changes. Opted out now: <strong>{{opted_out}}</strong>.</p>
        {{#has_rows}}{{> rows}}{{/has_rows}}{{^has_rows}}<p>Nothing recorded for this number (or it has aged out of the audit stream).</p>{{/has_rows}}
        {{> footer}}
        """

    static let record = """
        {{> header}}
        <p>{{where}}</p>
        <pre class="record">{{json}}</pre>
        {{#number}}<p><a href="/console/numbers/{{number_path}}">Timeline of {{number}}</a></p>{{/number}}
        {{> footer}}
        """

    static let dead = """
        {{> header}}
        <form method="get" action="/console/dead" class="search" role="search">
        <p><label for="error-filter">Error contains</label><br><input id="error-filter" name="error" value="{{filter}}"></p>
        <p><button type="submit">Filter</button></p>
        </form>
        <form method="post" action="/console/dead">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="error" value="{{filter}}">
        <table><caption>Dead jobs, newest first (page {{page}})</caption>
        <thead><tr><th scope="col">Select</th><th scope="col">Failed at</th><th scope="col">Job</th><th scope="col">To</th><th scope="col">Attempts</th><th scope="col">Error</th><th scope="col">Action</th></tr></thead>
        <tbody>{{#jobs}}<tr><td><input type="checkbox" name="id" value="{{id}}" id="job-{{index}}" aria-label="Select job {{id}}"></td>
        <td>{{failed_at}}</td><td>{{id}}</td><td>{{to}}</td><td>{{attempts}}</td><td>{{error}}</td>
        <td><button type="submit" name="retry_one" value="{{id}}">Retry</button></td></tr>{{/jobs}}
        {{^jobs}}<tr><td colspan="7">No dead job{{#filter}} matches{{/filter}}.</td></tr>{{/jobs}}</tbody></table>
        {{#has_jobs}}<p><button type="submit" name="action" value="retry">Retry selected</button>
        <button type="submit" name="action" value="delete" class="danger">Delete selected</button></p>{{/has_jobs}}
        </form>
        <nav aria-label="Pages" class="pages">{{#prev}}<a href="{{prev}}">Newer</a>{{/prev}} {{#next}}<a href="{{next}}">Older</a>{{/next}}</nav>
        {{> footer}}
        """

    static let optouts = """
        {{> header}}
        <form method="get" action="/console/optouts" class="search" role="search">
        <p><label for="q">Is this number opted out?</label><br><input id="q" name="q" value="{{q}}"></p>
        <p><button type="submit">Look up</button></p>
        </form>
        {{#lookup}}<p role="status">{{lookup}}</p>{{/lookup}}
        <form method="post" action="/console/optouts" class="card">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <h2>Change</h2>
        <p><label for="number">Number</label><br><input id="number" name="number" required></p>
        <p><label for="reason">Reason (kept in the audit record)</label><br><input id="reason" name="reason" required></p>
        <p><button type="submit" name="action" value="add">Opt out</button> <button type="submit" name="action" value="remove">Opt back in</button></p>
        </form>
        <table><caption>Opted-out numbers ({{total}} in all; up to 100 per page)</caption>
        <thead><tr><th scope="col">Number</th><th scope="col">Timeline</th></tr></thead>
        <tbody>{{#numbers}}<tr><td>{{number}}</td><td><a href="/console/numbers/{{number_path}}">timeline</a></td></tr>{{/numbers}}
        {{^numbers}}<tr><td colspan="2">None on this page.</td></tr>{{/numbers}}</tbody></table>
        <nav aria-label="Pages" class="pages">{{#next}}<a href="{{next}}">More</a>{{/next}}</nav>
        {{> footer}}
        """

    static let config = """
        {{> header}}
        <p>Rules in force on this instance: <code>{{path}}</code>, SHA-256 <code>{{sha256}}</code>.</p>
        <table><caption>Instances and the rules they run</caption>
        <thead><tr><th scope="col">Instance</th><th scope="col">SHA-256 of its config</th><th scope="col">Last seen (s ago)</th><th scope="col">Same as this one</th></tr></thead>
        <tbody>{{#instances}}<tr><td>{{name}}</td><td><code>{{sha256}}</code></td><td>{{age}}</td><td>{{same}}</td></tr>{{/instances}}</tbody></table>
        <form method="get" action="/console/config" class="card" role="search">
        <h2>Try the classifier</h2>
        <p><label for="try">A message</label><br><input id="try" name="try" value="{{try}}"></p>
        <p><button type="submit">Classify</button></p>
        {{#result}}<dl class="stats"><div><dt>Intent</dt><dd>{{intent}}</dd></div><div><dt>Rule</dt><dd>{{rule}}</dd></div>
        <div><dt>Confidence</dt><dd>{{confidence}}</dd></div><div><dt>Language</dt><dd>{{language}}</dd></div>
        <div><dt>Reply</dt><dd>{{reply}}</dd></div></dl>{{/result}}
        </form>
        <table><caption>Reply templates</caption>
        <thead><tr><th scope="col">Intent</th><th scope="col">Language</th><th scope="col">Text</th></tr></thead>
        <tbody>{{#templates}}<tr><td>{{intent}}</td><td>{{language}}</td><td>{{text}}</td></tr>{{/templates}}</tbody></table>
        <table><caption>Vocabulary</caption>
        <thead><tr><th scope="col">Language</th><th scope="col">Affirmative</th><th scope="col">Negative</th><th scope="col">Unsure</th></tr></thead>
        <tbody>{{#languages}}<tr><td>{{name}}</td><td>{{affirmative}}</td><td>{{negative}}</td><td>{{unknown}}</td></tr>{{/languages}}</tbody></table>
        {{> footer}}
        """

    static let css = """
        :root { --ink: #1b1b1b; --muted: #4a4a4a; --line: #c8c8c8; --link: #0b4f8a; --bar: #12344d; --bad: #9b1c1c; --good: #1d5e2c; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--ink); background: #ffffff; }
        header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: .5rem 1rem; background: var(--bar); color: #ffffff; }
        header a { color: #ffffff; } header .brand { font-weight: 700; }
        nav a { margin-right: .75rem; } nav a[aria-current] { text-decoration: underline; font-weight: 700; }
        .logout { margin-left: auto; } .logout span { margin-right: .5rem; }
        main { padding: 1rem; max-width: 72rem; }
        a { color: var(--link); }
        a:focus, button:focus, input:focus, select:focus { outline: 3px solid #f2b400; outline-offset: 2px; }
        .skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: .5rem; background: #ffffff; color: var(--ink); padding: .25rem; }
        table { border-collapse: collapse; width: 100%; margin: 1rem 0; } caption { text-align: left; font-weight: 700; }
        th, td { border: 1px solid var(--line); padding: .25rem .5rem; text-align: left; vertical-align: top; }
        .cards { display: flex; flex-wrap: wrap; gap: 1rem; } .card { border: 1px solid var(--line); padding: .75rem; margin: 0 0 1rem 0; }
        .stats { display: flex; flex-wrap: wrap; gap: 1.5rem; } .stats dt { color: var(--muted); } .stats dd { margin: 0; font-size: 1.4rem; }
        .flash { color: var(--good); font-weight: 700; } .error { color: var(--bad); font-weight: 700; }
        .note { color: var(--muted); } .danger { color: var(--bad); }
        button { font: inherit; padding: .25rem .75rem; }
        input, select { font: inherit; padding: .2rem; min-width: 16rem; }
        pre.record { white-space: pre-wrap; border: 1px solid var(--line); padding: .75rem; }
        svg .line { fill: none; stroke: var(--link); stroke-width: 2; } svg .axis { stroke: var(--line); }
        """

    /// Reloads a page that asks for it (`data-refresh`), while its tab is visible and no field has the focus.
    static let js = """
        (function () {
          var seconds = Number(document.body.getAttribute('data-refresh'));
          if (!seconds) return;
          setInterval(function () {
            var active = document.activeElement && /INPUT|SELECT|TEXTAREA/.test(document.activeElement.tagName);
            if (document.visibilityState === 'visible' && !active) location.reload();
          }, seconds * 1000);
        })();
        """
}
