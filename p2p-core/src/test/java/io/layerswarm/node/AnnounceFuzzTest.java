package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.layerswarm.swarm.PieceLayout;
import io.layerswarm.swarm.pb.LayerExchangeProtos.PieceHash;
import io.layerswarm.transfer.ProtocolException;
import io.layerswarm.testing.DecoderContract;
import java.io.ByteArrayInputStream;
import java.io.EOFException;

/**
 * Fuzzes {@code /layerswarm/announce/1.0.0}, which every connected peer may push at any time: an
 * announce is read into a consistent {@link ReceivedAnnounce} (bitfields sized to the layout, every piece
 * hash 32 bytes and inside the layout) or rejected with {@link ProtocolException} / {@link EOFException}.
 */
class AnnounceFuzzTest {
    private static final int MAX_ANNOUNCE = 1024 * 1024;
    private static final DecoderContract CONTRACT = DecoderContract.allowing(16L << 20, ProtocolException.class,
            EOFException.class);

    @FuzzTest
    void announce(byte[] input) {
        CONTRACT.check(() -> ReceivedAnnounce.read(new ByteArrayInputStream(input), MAX_ANNOUNCE)).ifPresent(a -> {
            assertNotNull(a.digest());
            if (a.dropped()) {
                return;
            }
            Holding h = a.holding();
            assertTrue(h.size() >= 0, "negative blob size");
            if (h.complete()) {
                assertTrue(a.hashes().isEmpty(), "a complete announce carries no piece hashes to check");
                return;
            }
            PieceLayout layout = new PieceLayout(h.size(), h.pieceSize());
            assertEquals(layout.count(), h.pieces().size());
            if (a.originPending() != null) {
                assertEquals(layout.count(), a.originPending().size());
            }
            for (PieceHash ph : a.hashes()) {
                assertTrue(ph.getIndex() >= 0 && ph.getIndex() < layout.count());
                assertEquals(32, ph.getSha256().size());
            }
        });
    }
}
