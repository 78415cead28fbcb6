"""The vocabulary every layer shares, importing neither torch nor Ray nor pandas.

``spec`` (sources, tasks, the batch layout), ``numbers`` (ints, finite numbers, NumPy's
scalars made plain), the configs (``data_config``, ``model_config``, ``loss_config``,
``trainer_config``, ``trial_config``), ``params`` (flat parameter names <->
trial config fields), ``metrics`` (metric names), ``errors``, ``files`` (the results layout
and atomic writes) and ``timing``. Import from the modules; this file imports nothing.
"""
