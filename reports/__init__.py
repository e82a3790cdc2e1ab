"""Reports built from crawl results: verdicts, CSV and JSON Lines files, summaries.

Pure: results in, files out. Nothing here imports Scrapy or ``crawler``; every report
can be rebuilt from a stored ``results.jsonl`` without crawling again.
"""
