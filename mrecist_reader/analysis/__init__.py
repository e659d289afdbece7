"""Trial endpoint statistics, figures and the sponsor's report (endpoints.md).

Beside ``storage``, ``transfer`` and ``imaging``: it uses the pure core's endpoint
results and numeric libraries (scipy, statsmodels, matplotlib); the core stays pure.
"""
