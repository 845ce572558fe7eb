package io.layerswarm.handoff;

import java.util.Collections;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A content-addressed description of a directory tree (the root itself excluded), by path.
 *
 * @param entries entries by path, in path order (a directory sorts before its contents)
 */
public record Manifest(SortedMap<String, TreeEntry> entries) {
    /** Copies the entries. */
    public Manifest {
        entries = Collections.unmodifiableSortedMap(new TreeMap<>(entries));
    }

    /** The empty tree. */
    public static Manifest empty() {
        return new Manifest(new TreeMap<>());
    }

    /** Digests of all regular files' content. */
    public Set<String> digests() {
        Set<String> out = new HashSet<>();
        for (TreeEntry e : entries.values()) {
            if (e.type() == EntryType.FILE) {
                out.add(e.sha256());
            }
        }
        return out;
    }

    /** Total bytes of regular files (hard links counted once). */
    public long fileBytes() {
        return entries.values().stream().filter(e -> e.type() == EntryType.FILE).mapToLong(TreeEntry::size).sum();
    }

    /** The tree after {@code plan}: its deletions (whole subtrees) removed, its entries put. */
    public Manifest apply(RoundPlan plan) {
        TreeMap<String, TreeEntry> next = new TreeMap<>(entries);
        for (String d : plan.deletions()) {
            next.remove(d);
            next.subMap(d + "/", d + "0").clear(); // '0' is the character after '/'
        }
        for (RoundPlan.Change c : plan.changes()) {
            TreeEntry e = c.entry();
            if (e.type() != EntryType.DIRECTORY) {
                next.subMap(e.path() + "/", e.path() + "0").clear();
            }
            next.put(e.path(), e);
        }
        return new Manifest(next);
    }

    /** Entries as a plain map (read-only). */
    public Map<String, TreeEntry> asMap() {
        return entries;
    }
}
