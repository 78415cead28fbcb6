"""Test doubles and helpers shipped with the package (as optuna does): tiny specs and
batches (``model``), fake run directories (``results``), fake trainers (``train``), W&B
run readers (``wandb``) and CLI runners (``cli``). Tests import these; the product does not.
"""
