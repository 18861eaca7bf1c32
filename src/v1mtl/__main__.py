import sys

from v1mtl.cli import main

sys.exit(main())
