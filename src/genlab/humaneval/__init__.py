"""Human evaluation (issue 5): raters compare two images of one prompt in a browser.

Pairs are two samples of the same prompt from the latest complete runs of two
different generators of one track (:mod:`.pairs`); raters hold random tokens
(:mod:`.raters`); every vote is one transaction in the results database
(:mod:`.votes`, tables in :mod:`.db`); generators are ranked by Bradley–Terry
strengths with bootstrap intervals (:mod:`.bradley_terry`), and the votes are
scored against the exact judge (:mod:`.agreement`), both in :mod:`.ranking`.
The web app is :func:`genlab.humaneval.app.create_app`, served by ``genlab serve``.
"""
