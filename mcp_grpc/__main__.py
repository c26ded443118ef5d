import sys

from mcp_grpc.cli.main import main

sys.exit(main())
