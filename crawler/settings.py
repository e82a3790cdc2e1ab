"""Scrapy settings of the footer-audit project (``scrapy crawl footer`` uses them too).

Chosen for a broad crawl of one home page per site with ``bench/crawl_speed.py`` and
``bench/crawl_memory.py`` (figures from a 2-core machine crawling the loopback farm
through its proxy; background in the team's PERF_NOTES): one request at a time per
site, many sites at once, no per-site state that outlives the site's few seconds in
the crawl, and nothing done per page that a one-page-per-site audit does not need.
"""

BOT_NAME = "footer-audit"
SPIDER_MODULES = ["crawler.spider"]
USER_AGENT = "footer-audit/0.1 (licence footer compliance audit)"

ROBOTSTXT_OBEY = True
# 64 sites at once keep one core busy on loopback; on the internet pages/s is at most
# CONCURRENT_REQUESTS / mean fetch time (raise it with --concurrency: about 200 for
# 170 pages/s at 1 s a page).
CONCURRENT_REQUESTS = 64
CONCURRENT_REQUESTS_PER_DOMAIN = 1
# Scrapy starts CONCURRENT_ITEMS (default 100) tasks for every callback result, even a
# single one: a quarter of the CPU of a do-nothing crawl.
CONCURRENT_ITEMS = 1
# The default DownloaderAwarePriorityQueue costs time in proportion to the domains
# waiting, and every request here is another domain: 25 pages/s with 100,000 targets.
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.ScrapyPriorityQueue"
# Every request is wanted, and two targets may redirect to the same page.
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"
# Names are resolved in the reactor's thread pool, one blocked thread per lookup: with
# 50 ms lookups 10 threads gave 190 pages/s and 50 gave 520. Through a proxy only the
# proxy's name is looked up.
REACTOR_THREADPOOL_MAXSIZE = 50
DNS_TIMEOUT = 20
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 10
# The spider follows page redirects itself, on the text it decodes anyway; the
# middleware would decode every page a second time.
METAREFRESH_ENABLED = False
# AutoThrottle paces the requests to one site, and a site gets two (robots.txt and the
# home page) that it delayed by AUTOTHROTTLE_START_DELAY each: ~55 pages/s at 64 sites
# at once. One request at a time per site is the politeness this crawl needs.
AUTOTHROTTLE_ENABLED = False
# Servers that run code sent to them (the remote-control one also imports aiohttp,
# ~10 MB, and writes a job file per crawl): nothing an audit needs.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

# Per-site state only for the sites in use (crawler.broad): download slots are
# forgotten 5 s after their last request instead of 60 s, robots.txt parsers and
# cookie jars (one per site) are kept for the FOOTER_AUDIT_RECENT_SITES most recently
# used sites instead of for every site of the crawl.
DOWNLOADER = "crawler.broad.SiteDownloader"
FOOTER_AUDIT_RECENT_SITES = 4096
DOWNLOADER_MIDDLEWARES = {
    # before robots.txt: a site at a private address is not even asked for it
    "crawler.safety.PrivateAddressMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.broad.SiteRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "crawler.broad.SiteCookiesMiddleware": 700,
    "crawler.middlewares.ProxyMiddleware": 740,
    # a cut-off gzip body is an error, not a shorter page; Retry-After is honoured
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.faults.RetryAfterMiddleware": 550,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.faults.StrictCompressionMiddleware": 590,
}
# Sites only at public addresses (crawler.safety); --allow-private lifts it.
FOOTER_AUDIT_ALLOW_PRIVATE = False
TWISTED_DNS_RESOLVER = "crawler.safety.PublicAddressResolver"
FOOTER_AUDIT_RETRY_AFTER_MAX = 60  # seconds of Retry-After worth waiting for
# Each of these passes every callback result through another async wrapper, for
# nothing here: no depth limit, no Referer needed, URL lengths are checked when the
# targets are read (and dropping a long page-redirect URL would lose the site's row),
# and the spider carries the redirect history in meta on purpose.
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
ITEM_PIPELINES = {"crawler.pipelines.ReportPipeline": 800}

# Pages are read (decoded, numbers extracted, result row built) in this many worker
# processes (crawler.page_worker); 0: in the crawl's own process; "auto": one when the
# crawl may use two cores or more, else none. Scrapy keeps one core busy and reading
# costs ~1.7 ms a page, about a third of the CPU of fetching it: with bench/crawl_speed.py
# on two cores (2,500 sites of 60-120 KB) inline reading ran at 0.72 of the bare
# spider's rate, one worker at 0.87-0.89 (best of 3). A worker costs ~60 MB of memory.
FOOTER_AUDIT_EXTRACT_WORKERS = "auto"

# Rendering in headless Chromium (crawler.render, --render): "never", "auto" (pages
# with no number that look built by script) or "always". Only a crawl that renders
# gets scrapy-playwright's download handler (crawler.render.playwright_settings), so a
# plain crawl keeps Scrapy's own; both run on Scrapy's default asyncio reactor.
FOOTER_AUDIT_RENDER = "never"
# Seconds a loaded page may take to show a licence keyword (a footer drawn by a timer).
FOOTER_AUDIT_RENDER_WAIT = 5.0
FOOTER_AUDIT_RENDER_CONCURRENCY = 4  # pages (each in its own browser context) at once
FOOTER_AUDIT_SCREENSHOTS = False
