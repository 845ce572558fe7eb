package io.layerswarm.handoff;

/**
 * What one round moved.
 *
 * @param round round number
 * @param entries entries sent (whiteouts included)
 * @param deletions whiteouts sent
 * @param inlineFiles files sent with content
 * @param referencedFiles files sent as references to content the target holds
 * @param contentBytes uncompressed bytes of inline content
 * @param wireBytes bytes of the whole round stream (framing and compression included)
 */
public record RoundStats(long round, long entries, long deletions, long inlineFiles, long referencedFiles,
                         long contentBytes, long wireBytes) {
}
