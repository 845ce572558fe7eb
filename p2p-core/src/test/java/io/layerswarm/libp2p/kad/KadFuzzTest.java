package io.layerswarm.libp2p.kad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.layerswarm.libp2p.EmbeddedFeed;
import io.layerswarm.testing.DecoderContract;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.util.List;
import java.util.Optional;

/**
 * Fuzzes Kademlia ({@code /ipfs/kad/1.0.0}): message bodies ({@link KadProtocolException} or a message
 * within the peer limits that re-encodes canonically), the length-prefixed framing on Netty and on
 * blocking streams, and a DHT node serving whatever request decodes (it answers or throws
 * {@link KadProtocolException}; its state stays within its limits across all inputs of a run).
 */
class KadFuzzTest {
    private static final DecoderContract BODY = DecoderContract.allowing(32L << 20, KadProtocolException.class);
    private static final DecoderContract STREAM = DecoderContract.allowing(32L << 20, KadProtocolException.class,
            EOFException.class);
    /** One node for the whole run, so that state garbage leaves behind meets later inputs. */
    private static final KadDht DHT = new KadDht(id(1), List::of, KadStreamHandlersTest.NO_NETWORK, KadConfig.defaults());
    private static final KadPeer FROM = new KadPeer(id(2), List.of(new byte[] {4, 127, 0, 0, 1, 6, 0, 1}), null);

    @FuzzTest
    void message(byte[] input) throws KadProtocolException {
        Optional<KadMessage> decoded = BODY.check(() -> KadMessageCodec.decode(input));
        if (decoded.isEmpty()) {
            return;
        }
        KadMessage m = decoded.get();
        for (List<KadPeer> peers : List.of(m.closerPeers(), m.providerPeers())) {
            for (KadPeer p : peers) {
                assertTrue(p.id().length > 0 && p.id().length <= KadMessageCodec.MAX_PEER_ID_SIZE);
                assertTrue(p.addrs().size() <= KadMessageCodec.MAX_ADDRS_PER_PEER);
            }
        }
        byte[] canonical = KadMessageCodec.encode(m);
        assertArrayEquals(canonical, KadMessageCodec.encode(KadMessageCodec.decode(canonical)));
    }

    @FuzzTest
    void frames(byte[] input) {
        EmbeddedChannel ch = new EmbeddedChannel(new KadFrameCodec());
        BODY.check(() -> EmbeddedFeed.feedUnwrapped(ch, input));
        ch.finishAndReleaseAll();
        STREAM.check(() -> {
            ByteArrayInputStream in = new ByteArrayInputStream(input);
            for (KadMessage m; (m = KadFraming.read(in)) != null; ) {
                assertTrue(m.type() != null);
            }
            return null;
        });
    }

    @FuzzTest
    void request(byte[] input) {
        BODY.check(() -> DHT.handleRequest(FROM, KadMessageCodec.decode(input)));
    }

    private static byte[] id(int i) {
        return KadStreamHandlersTest.id(i);
    }
}
