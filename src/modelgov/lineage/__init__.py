"""Lineage: :mod:`.join` builds the graph from the workspace, the MLflow store and OpenLineage
events; :mod:`.queries` answers upstream/downstream questions about it."""
