package io.layerswarm.handoff;

import java.util.List;

/**
 * What one round sends: deletions first, then changed entries in path order (hard links last).
 *
 * @param round round number (1 = the first, full round)
 * @param deletions topmost deleted paths (a deleted directory's contents are not listed)
 * @param changes new or modified entries
 */
public record RoundPlan(long round, List<String> deletions, List<Change> changes) {
    /** Copies the lists. */
    public RoundPlan {
        deletions = List.copyOf(deletions);
        changes = List.copyOf(changes);
    }

    /**
     * One new or modified entry.
     *
     * @param entry the entry as it is now
     * @param inline for a FILE: its content travels in this round; else the target holds its digest
     */
    public record Change(TreeEntry entry, boolean inline) {
    }

    /** Uncompressed bytes of inline content. */
    public long inlineBytes() {
        return changes.stream().filter(Change::inline).mapToLong(c -> c.entry().size()).sum();
    }

    /** Number of files sent with content. */
    public long inlineFiles() {
        return changes.stream().filter(Change::inline).count();
    }

    /** Number of files sent as references to content the target holds. */
    public long referencedFiles() {
        return changes.stream().filter(c -> !c.inline() && c.entry().type() == EntryType.FILE).count();
    }

    /** True if the round changes nothing. */
    public boolean isEmpty() {
        return deletions.isEmpty() && changes.isEmpty();
    }
}
