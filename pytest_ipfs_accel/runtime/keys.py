"""``user_properties`` keys under which the generated kinds hand their records to the controller
(``plugin.wire`` reads them). No imports: the plugin loads this at start-up."""

#: the benchmark kind's record (``runtime.bench``)
BENCHMARK = "ipfs_benchmark"
#: cosine / top-1 / top-5 agreement of a parity or batch check (``runtime.checks``)
ACCURACY = "ipfs_accuracy"
#: the generate kind's record (``runtime.generation``)
GENERATION = "ipfs_generation"
#: a record of a test's own use of pytest-benchmark's fixture, relayed from an xdist worker
#: (``plugin.benchmark_xdist``): rebuilt into pytest-benchmark's results, neither stored nor gated
FIXTURE_TIMING = "ipfs_fixture_timing"
