"""Each model version in the formats teams already publish model documentation in.

* :mod:`.hf` — a Hugging Face model card (``README.md`` with YAML front matter and ``model-index``
  evaluation results), built with ``huggingface_hub``'s own card classes;
* :mod:`.mct` — Google's Model Card Toolkit JSON (schema v0.0.2);
* :mod:`.cyclonedx` — a CycloneDX 1.6 ML-BOM: the model as a ``machine-learning-model`` component
  with its ``modelCard``, validated with ``cyclonedx-python-lib``.

All read the manifest only (:mod:`modelgov.manifest`), so an export can be made from a published
site's ``manifest.json`` without the workspace, and carries the same numbers the site shows.
"""
