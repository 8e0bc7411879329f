from hailuo_tui.cli import main

raise SystemExit(main())
