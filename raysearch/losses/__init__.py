"""Training losses: per-task losses (``tasks``) and the strategies that combine them into
one objective (``strategies``: uniform, kendall, softplus_kendall, a3dro). The metric that
selects models is not here: it is ``raysearch.scoring``. Import from the modules.
"""
