"""The plugin's markers: names and ``--markers`` help (constants only: imported at start-up)."""

MAX_SLOWDOWN = "ipfs_max_slowdown"

#: ``name(args): help`` lines, registered by the plugin's pytest_configure.
HELP = (
    "ipfs_model(name): generated test of model NAME (select with -m \"ipfs_model(name='bert')\")",
    "ipfs_hw(name): generated test on platform NAME (-m \"ipfs_hw(name='openvino')\")",
    "ipfs_kind(name): generated test of kind NAME: load, forward, parity, batch, benchmark",
    f"{MAX_SLOWDOWN}(fraction): this benchmark item's regression threshold, e.g. 0.3 = fail when the "
    "median is more than 30% slower than the baseline (overrides --ipfs-fail-on-regression)",
)
