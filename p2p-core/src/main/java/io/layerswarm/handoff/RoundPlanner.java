package io.layerswarm.handoff;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Computes the difference between the previous round's manifest and a fresh scan. */
public final class RoundPlanner {
    private RoundPlanner() {
    }

    /**
     * Plans one round.
     *
     * @param round the round number
     * @param previous what the target holds after the previous round (empty for the first)
     * @param current the source tree now
     * @param targetHas content digests the target already holds (its tree, image layers, ...);
     *                  files with these digests are sent as references
     */
    public static RoundPlan plan(long round, Manifest previous, Manifest current, Set<String> targetHas) {
        List<String> deletions = new ArrayList<>();
        Set<String> deleted = new HashSet<>();
        for (TreeEntry old : previous.entries().values()) {
            if (current.entries().containsKey(old.path()) || deleted.contains(old.parent())) {
                if (deleted.contains(old.parent())) {
                    deleted.add(old.path()); // covered by its deleted ancestor
                }
                continue;
            }
            deletions.add(old.path());
            deleted.add(old.path());
        }
        Set<String> held = new HashSet<>(targetHas);
        Set<String> emittedFiles = new HashSet<>();
        List<RoundPlan.Change> changes = new ArrayList<>();
        List<RoundPlan.Change> links = new ArrayList<>();
        for (TreeEntry now : current.entries().values()) {
            TreeEntry old = previous.entries().get(now.path());
            switch (now.type()) {
                case HARDLINK -> {
                    // A re-sent file is a new inode on the target: its other names must follow it.
                    if (!now.equals(old) || emittedFiles.contains(now.linkTarget())) {
                        links.add(new RoundPlan.Change(now, false));
                    }
                }
                case FILE -> {
                    if (!now.equals(old)) {
                        boolean inline = held.add(now.sha256());
                        changes.add(new RoundPlan.Change(now, inline));
                        emittedFiles.add(now.path());
                    }
                }
                default -> {
                    if (!now.equals(old)) {
                        changes.add(new RoundPlan.Change(now, false));
                    }
                }
            }
        }
        changes.addAll(links);
        return new RoundPlan(round, deletions, changes);
    }
}
