import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the package, not an installed copy
API_JSON = os.path.join(HERE, "..", "..", "api.json")
