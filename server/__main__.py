from dockyard.server.cli.main import main

raise SystemExit(main())
