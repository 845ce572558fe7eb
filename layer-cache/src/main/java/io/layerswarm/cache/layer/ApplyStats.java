package io.layerswarm.cache.layer;

/**
 * What applying one layer did.
 *
 * @param entries tar entries read
 * @param files regular files written
 * @param directories directories created or updated
 * @param symlinks symbolic links created
 * @param hardlinks hard links created
 * @param whiteouts whiteout markers applied (including opaque directories)
 * @param bytes content bytes written to regular files
 * @param skipped entries skipped with a warning (special files not allowed, unknown types)
 */
public record ApplyStats(long entries, long files, long directories, long symlinks, long hardlinks,
                         long whiteouts, long bytes, long skipped) {
}
