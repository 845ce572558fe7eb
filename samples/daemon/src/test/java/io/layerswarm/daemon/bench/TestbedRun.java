package io.layerswarm.daemon.bench;

import io.layerswarm.cache.ByteSize;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The outcome of one testbed row (one mode at one cache size): every deployment's time, the bytes its
 * images hold (layers + config, summed per deployment) and what the registry served meanwhile.
 *
 * @param mode baseline, swarm, full or preheat
 * @param nominal the cache size per worker the row stands for (the seed's scale)
 * @param capacity cache bytes per worker this testbed gives (nominal x the cache scale)
 * @param seconds deployment times in request order
 * @param phases where each deployment's time went, in the same order
 * @param requestedBytes image bytes the deployments needed, summed
 * @param registryBytes blob bytes the registry served during the row
 * @param peers blob bytes the nodes took from peers of their own and of the other cluster
 * @param failures deployments that failed (not in {@code seconds})
 */
record TestbedRun(String mode, long nominal, long capacity, List<Double> seconds, List<Phases> phases,
                  long requestedBytes, long registryBytes, PeerBytes peers, int failures) {
    TestbedRun {
        seconds = List.copyOf(seconds);
        phases = List.copyOf(phases);
    }

    /**
     * One deployment's time, split: scheduling (request to decision, incl. the extender's round trips),
     * waiting for the worker (its earlier deployments), {@code ctr images pull}, {@code ctr run}.
     */
    record Phases(double schedule, double queue, double pull, double run) {
    }

    /** Mean seconds per phase: schedule, queue, pull, run. */
    String phaseMeans() {
        return String.format(Locale.ROOT, "%.2f / %.2f / %.2f / %.2f",
                phases.stream().mapToDouble(Phases::schedule).average().orElse(Double.NaN),
                phases.stream().mapToDouble(Phases::queue).average().orElse(Double.NaN),
                phases.stream().mapToDouble(Phases::pull).average().orElse(Double.NaN),
                phases.stream().mapToDouble(Phases::run).average().orElse(Double.NaN));
    }

    double mean() {
        return seconds.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    /** Nearest-rank 95th percentile. */
    double p95() {
        if (seconds.isEmpty()) {
            return Double.NaN;
        }
        List<Double> s = new ArrayList<>(seconds);
        Collections.sort(s);
        return s.get((int) Math.ceil(0.95 * s.size()) - 1);
    }

    /** Byte hit ratio: the share of needed image bytes that did not come from the registry. */
    double hitRatio() {
        return requestedBytes == 0 ? Double.NaN : 1 - (double) registryBytes / requestedBytes;
    }

    /** The Markdown table row, with the speed-up of the mean over {@code baseline}'s (same cache size). */
    String row(TestbedRun baseline) {
        String speedUp = baseline == null ? "-" : String.format(Locale.ROOT, "%.2fx", baseline.mean() / mean());
        return String.format(Locale.ROOT, "| %s | %s | %d | %.2f | %.2f | %s | %.3f | %d | %d | %s | %d |",
                label(nominal, capacity), mode, seconds.size(), mean(), p95(), speedUp, hitRatio(), registryBytes,
                peers.otherClusters(), phaseMeans(), failures);
    }

    static String header() {
        return "| cache / worker (testbed) | mode | deployments | mean (s) | p95 (s) | speed-up | byte hit ratio"
                + " | registry bytes | bytes between clusters | mean schedule / queue / pull / run (s) | failed |\n"
                + "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |";
    }

    /** The nominal size, and in parentheses what a worker gets when the testbed scales it. */
    static String label(long nominal, long capacity) {
        return nominal == capacity ? size(capacity) : size(nominal) + " (" + size(capacity) + ")";
    }

    private static String size(long bytes) {
        return bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : ByteSize.format(bytes);
    }

    /** A worker's cache for a nominal size: {@code nominal x scale}, rounded to whole bytes. */
    static long scaled(long nominal, double scale) {
        if (!(scale > 0) || Double.isInfinite(scale)) {
            throw new IllegalArgumentException("cache scale must be positive: " + scale);
        }
        return Math.round(nominal * scale);
    }
}
