"""The shared Ray's idle check (tests/integration/conftest.py), which every test that joins
it relies on to catch a search that leaves a CPU held."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from raysearch.testing.cluster import LocalCluster

pytestmark = pytest.mark.integration

# A driver whose actor holds one CPU until the driver is killed.
HOLDER = """
import sys, time, ray
ray.init(address=sys.argv[1], logging_level="ERROR")
@ray.remote(num_cpus=1)
class Holder:
    def ready(self):
        return True
holder = Holder.remote()
ray.get(holder.ready.remote())
print("holding", flush=True)
time.sleep(600)
"""


def test_a_held_cpu_fails_the_idle_check_until_its_driver_is_gone(shared_ray: LocalCluster) -> None:
    shared_ray.wait_idle(60)
    driver = subprocess.Popen(
        [sys.executable, "-c", HOLDER, shared_ray.address], stdout=subprocess.PIPE, text=True
    )
    try:
        assert driver.stdout is not None and driver.stdout.readline().strip() == "holding"
        deadline = time.monotonic() + 30
        while shared_ray.cpus_in_use() != (1.0, 2.0) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert shared_ray.cpus_in_use() == (1.0, 2.0)
        with pytest.raises(AssertionError, match="1 of 2 CPUs still in use"):
            shared_ray.wait_idle(2)
    finally:
        driver.kill()
        driver.wait(timeout=60)
    shared_ray.wait_idle(60)  # a killed driver's actor is released
