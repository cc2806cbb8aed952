"""Tests of the conformance suite against deliberately bad implementations, and of its mutation
testing: the suite must report a broken op as that case's failure, clearly, and go on."""
