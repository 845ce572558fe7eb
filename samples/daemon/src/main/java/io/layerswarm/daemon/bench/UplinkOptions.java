package io.layerswarm.daemon.bench;

import picocli.CommandLine.Option;

/** The emulated uplink in front of a benchmark's origin registry (a picocli mixin). */
public final class UplinkOptions {
    @Option(names = "--uplink-mbps", defaultValue = "100", description = "Origin uplink in Mbit/s (default: ${DEFAULT-VALUE}).")
    double mbps;

    @Option(names = "--uplink-latency-ms", defaultValue = "50", description = "Added round-trip time (default: ${DEFAULT-VALUE}).")
    long latencyMs;

    /** The uplink in bits per second. */
    long bitsPerSecond() {
        return (long) (mbps * 1e6);
    }
}
