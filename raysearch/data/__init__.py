"""Data: the dataset contract and its loader (``contract``, ``manifest``, ``raw``), adapters
for public raw formats (``adapters``), the synthetic default (``synth``), preprocessing fitted
on the training period only (``preprocess``: the days before the first validation anchor),
windows and splits (``windows``), the reference losses b_i of the anchored metric
(``references``), and ``prepared.prepare``, which builds and caches all of it (``cache``).
Import from the modules; this file imports nothing.
"""
