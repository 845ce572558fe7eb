package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.DownloadResult;
import io.layerswarm.testing.Await;
import io.layerswarm.transfer.LayerExchangeServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Piece streams between real nodes (libp2p over loopback): {@link LayerExchangeServer#SESSION_PROTOCOL}
 * carries a fetch's requests on a few streams per peer, and a peer that only speaks
 * {@link LayerExchangeServer#PROTOCOL} (an older node) is still served, one request per stream.
 */
class PieceStreamsIT {
    private static final Duration AWAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;
    TestCluster cluster;

    @BeforeEach
    void setUp() {
        cluster = new TestCluster(tmp);
    }

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    /** Request timeouts far beyond a loaded CI's delays, so no request is given up on (which closes its stream). */
    TestCluster.Node node(String name) throws Exception {
        SwarmConfig c = TestCluster.patient(SwarmConfig.defaults().withPieceSize(256 * 1024));
        return cluster.node(name, c.withDownload(c.download().withMinRequestTimeout(Duration.ofMinutes(2))));
    }

    /** b fetches the blob a holds, once b knows a holds it; returns how many pieces it has. */
    int fetchFromHolder(TestCluster.Node a, TestCluster.Node b, byte[] blob) throws Exception {
        Digest d = Digest.sha256(blob);
        a.store().put(blob);
        TestCluster.connectAll(List.of(a.host(), b.host()));
        Await.until(AWAIT, "b hears that a holds the blob", () -> LayerSwarmIT.await(b.swarm().holders(d)) == 1);
        DownloadResult r = b.swarm().fetch(d, blob.length, null).get(AWAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(blob.length, r.peerBytes());
        assertArrayEquals(blob, Files.readAllBytes(b.store().path(d)));
        return b.swarm().layoutFor(blob.length).count();
    }

    @Test
    void aFetchFromAPeerOpensAFewPieceStreamsNotOnePerPiece() throws Exception {
        byte[] blob = LayerSwarmIT.realBlob();
        TestCluster.Node a = node("a");
        TestCluster.Node b = node("b");
        int pieces = fetchFromHolder(a, b, blob);
        assertTrue(pieces >= 32, pieces + " pieces");
        int streams = b.swarm().layerStreamsOpened(a.host().peerId());
        // the hash query's stream, then one per request in flight (4), a few more if a request was cancelled
        assertTrue(streams >= 1 && streams <= pieces / 4, streams + " layer streams for " + pieces + " pieces");
    }

    @Test
    void aPeerWithoutTheSessionProtocolIsServedOneRequestPerStream() throws Exception {
        byte[] blob = LayerSwarmIT.realBlob();
        TestCluster.Node old = node("old");
        // what an older node offers: the one-request protocol only, so the session protocol is answered na
        old.host().removeHandler(LayerExchangeServer.SESSION_PROTOCOL);
        assertFalse(old.host().protocols().contains(LayerExchangeServer.SESSION_PROTOCOL));
        TestCluster.Node b = node("b");
        int pieces = fetchFromHolder(old, b, blob);
        int streams = b.swarm().layerStreamsOpened(old.host().peerId());
        assertTrue(streams >= pieces, streams + " layer streams for " + pieces + " pieces");
    }
}
