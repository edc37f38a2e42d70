"""What the Spark engine's test modules share: they are skipped, with the reason, where PySpark or
Java is missing (and each runs one local session: the ``spark`` fixture of conftest.py).

    from spark_support import require_spark
    require_spark()  # before importing modelgov.monitoring.spark_scan
"""

from __future__ import annotations

import shutil

import pytest


def require_spark() -> None:
    """Skip the calling module unless PySpark imports and Java is on the PATH."""
    pytest.importorskip("pyspark", reason="the Spark engine tests need PySpark: pip install 'modelgov[spark]'")
    if shutil.which("java") is None:
        pytest.skip("the Spark engine tests need Java 17+ on the PATH", allow_module_level=True)
