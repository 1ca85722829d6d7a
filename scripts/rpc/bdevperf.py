# SPDX-License-Identifier: BSD-3-Clause
"""bdevperf's own method: perform_tests starts a run of a bdevperf started with -z and answers
with its results when the run is over (SPDK's bdevperf.py sends it without parameters)."""


def perform_tests(client):
    return client.call('perform_tests')


def add_parsers(sub):
    p = sub.add_parser('perform_tests',
                       help='Run the tests of a bdevperf started with -z; prints the results')
    p.set_defaults(run=lambda c, a: perform_tests(c))
