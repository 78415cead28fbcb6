"""The Multi-Resolution HAN (``han``): encoders per resolution (``daily``, ``monthly``,
``raion``), fusion, aggregation and heads; its config and size presets are in
``raysearch.core.model_config``. Import from the modules; this file imports nothing.
"""
