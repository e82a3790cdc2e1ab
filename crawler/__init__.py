"""The crawling side of footer-audit: HTML handling, the Scrapy spider and the CLI.

tldextract, which Scrapy's cookie middleware uses too, must never fetch the public
suffix list from the internet: the bundled snapshot is used. The variable is set
here, before anything imports Scrapy, because tldextract reads it when an extractor
is constructed.
"""

import os

os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
