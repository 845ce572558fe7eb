package io.layerswarm.node;

import io.layerswarm.swarm.Bitfield;

/**
 * What one peer holds of one blob, as it last announced.
 *
 * @param size blob size
 * @param pieceSize the piece size its bitfield refers to
 * @param pieces pieces held ({@code null} when complete)
 * @param complete whether it holds the whole verified blob
 */
record Holding(long size, int pieceSize, Bitfield pieces, boolean complete) {
}
