from modelgov.cli import main

raise SystemExit(main())
