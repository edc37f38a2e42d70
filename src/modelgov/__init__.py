"""modelgov: turn an ML team's evidence into a governance website reviewers can trust.

The public entry points are the command line (``modelgov``) and :func:`modelgov.build.build_site`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
