"""Scrapy settings of the footer-audit project (``scrapy crawl footer`` uses them too).

Chosen for a broad crawl of one home page per site (see PERF_NOTES.md): one request
at a time per site, many sites at once, a scheduler queue whose cost does not grow
with the number of domains, no duplicate filter (every request is wanted, and two
targets may redirect to the same page), and no meta-refresh middleware (the spider
follows page redirects itself, on the text it decodes anyway).
"""

BOT_NAME = "footer-audit"
SPIDER_MODULES = ["crawler.spider"]
USER_AGENT = "footer-audit/0.1 (licence footer compliance audit)"

ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 64
CONCURRENT_REQUESTS_PER_DOMAIN = 1
CONCURRENT_ITEMS = 1
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.ScrapyPriorityQueue"
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"
REACTOR_THREADPOOL_MAXSIZE = 32
DNS_TIMEOUT = 20
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 10
METAREFRESH_ENABLED = False
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

DOWNLOADER_MIDDLEWARES = {"crawler.middlewares.ProxyMiddleware": 740}
ITEM_PIPELINES = {"crawler.pipelines.ReportPipeline": 800}
