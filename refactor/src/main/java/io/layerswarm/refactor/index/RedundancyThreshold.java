package io.layerswarm.refactor.index;

/**
 * When refactoring is worth it: the policy the daemon checks periodically after an analysis.
 *
 * @param minShare minimum share of redundant bytes in the total (0..1)
 * @param minBytes minimum redundant bytes
 */
public record RedundancyThreshold(double minShare, long minBytes) {
    /** Validates. */
    public RedundancyThreshold {
        if (minShare < 0 || minShare > 1 || minBytes < 0) {
            throw new IllegalArgumentException("threshold out of range: share=" + minShare + " bytes=" + minBytes);
        }
    }

    /** Whether {@code report} calls for refactoring: both the share and the byte count are reached. */
    public boolean exceededBy(AnalysisReport report) {
        return report.redundantBytes() > 0 && report.redundantBytes() >= minBytes
                && report.redundantShare() >= minShare;
    }
}
