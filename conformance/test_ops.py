"""Every case of the catalogue, one test item each (see conformance/plugin.py)."""
from conformance.plugin import CaseSuite

cases = CaseSuite()
