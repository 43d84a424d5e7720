"""``user_properties`` keys under which the generated kinds hand their records to the controller
(``plugin.wire`` reads them). No imports: the plugin loads this at start-up."""

#: the benchmark kind's record (``runtime.bench``)
BENCHMARK = "ipfs_benchmark"
#: the generate kind's record (``runtime.generation``)
GENERATION = "ipfs_generation"
