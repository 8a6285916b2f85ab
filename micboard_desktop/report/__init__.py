"""The post-show report: a Qt-free model from the database, and html and csv renderers.

The pdf renderer needs Qt and lives in ``ui/report_pdf.py``.
"""
