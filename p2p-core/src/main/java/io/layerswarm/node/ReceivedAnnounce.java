package io.layerswarm.node;

import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.Bitfield;
import io.layerswarm.swarm.PieceLayout;
import io.layerswarm.swarm.pb.LayerExchangeProtos.Announce;
import io.layerswarm.swarm.pb.LayerExchangeProtos.PieceHash;
import io.layerswarm.transfer.Frames;
import io.layerswarm.transfer.ProtocolException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * One {@code /layerswarm/announce/1.0.0} message, read and checked: the decoding half of the announce
 * protocol, apart from what the node does with it.
 *
 * @param digest the blob announced
 * @param seq the sender's sequence number
 * @param dropped whether the sender dropped the blob (then {@code holding} is null)
 * @param holding what the sender holds
 * @param originPending pieces the sender is fetching from the registry, or null
 * @param hashes piece hashes for {@code holding}'s piece size
 */
record ReceivedAnnounce(Digest digest, long seq, boolean dropped, Holding holding, Bitfield originPending,
                        List<PieceHash> hashes) {

    /**
     * Reads one announce.
     *
     * @throws ProtocolException if it is oversized, malformed or inconsistent
     * @throws java.io.EOFException if the stream ends early
     */
    static ReceivedAnnounce read(InputStream in, int maxBytes) throws IOException {
        return of(Frames.read(in, Announce.parser(), maxBytes));
    }

    /**
     * Checks one decoded announce (also a claim's answer).
     *
     * @throws ProtocolException if it is malformed or inconsistent
     */
    static ReceivedAnnounce of(Announce a) throws ProtocolException {
        try {
            return check(a);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(e.getMessage());
        }
    }

    private static ReceivedAnnounce check(Announce a) throws ProtocolException {
        Digest digest = Digest.parse(a.getDigest());
        if (a.getDropped()) {
            return new ReceivedAnnounce(digest, a.getSeq(), true, null, null, List.of());
        }
        if (a.getComplete()) {
            if (a.getSize() < 0) {
                throw new ProtocolException("blob size " + Long.toUnsignedString(a.getSize()) + " out of range");
            }
            // A complete holder's piece hashes are of no use (the blob's digest covers it) and, unlike a
            // partial holder's, cannot be checked against a layout: drop them rather than store them.
            return new ReceivedAnnounce(digest, a.getSeq(), false,
                    new Holding(a.getSize(), a.getPieceSize(), null, true), null, List.of());
        }
        PieceLayout layout = new PieceLayout(a.getSize(), a.getPieceSize());
        Bitfield pieces = Bitfield.fromBytes(layout.count(), a.getBitfield().toByteArray());
        for (PieceHash ph : a.getHashesList()) {
            if (ph.getIndex() >= layout.count() || ph.getSha256().size() != 32) {
                throw new ProtocolException("bad piece hash");
            }
        }
        Bitfield pending = a.getOriginPending().isEmpty() ? null
                : Bitfield.fromBytes(layout.count(), a.getOriginPending().toByteArray());
        return new ReceivedAnnounce(digest, a.getSeq(), false, new Holding(a.getSize(), a.getPieceSize(), pieces, false),
                pending, a.getHashesList());
    }
}
