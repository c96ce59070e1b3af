"""`videomae serve`: a classifier behind an HTTP API and a page (FastAPI + uvicorn, the
``serve`` extra)."""
