from modelgov.cli import command

raise SystemExit(command())
