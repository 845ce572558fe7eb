package io.layerswarm.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.swarm.Bitfield;
import io.layerswarm.swarm.BlobDownload;
import io.layerswarm.swarm.DownloadConfig;
import io.layerswarm.swarm.DownloadResult;
import io.layerswarm.swarm.OriginGate;
import io.layerswarm.swarm.PieceHashes;
import io.layerswarm.swarm.PieceLayout;
import io.layerswarm.swarm.PiecePicker;
import io.layerswarm.swarm.MemorySink;
import io.layerswarm.swarm.SwarmLoop;
import io.layerswarm.testing.RegistryFixture;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Peers plus the real docker-registry as origin: the registry sends only what no peer holds. */
class RegistryPieceSourceIT {

    @Test
    void registryFillsOnlyThePiecesPeersLack() throws Exception {
        byte[] blob = Files.readAllBytes(Path.of("/usr/bin/bash"));
        Digest digest = Digest.sha256(blob);
        PieceLayout layout = new PieceLayout(blob.length, 64 * 1024);
        PieceHashes hashes = PieceHashes.compute(digest, layout, new ByteArrayInputStream(blob));
        Bitfield firstHalf = Bitfield.empty(layout.count());
        for (int i = 0; i < layout.count() / 2; i++) {
            firstHalf = firstHalf.with(i);
        }
        ExecutorService pool = Executors.newCachedThreadPool();
        try (RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN);
             TcpTestTransport peer = new TcpTestTransport(new LayerExchangeServer(
                     new MemoryBlobs(blob, layout, firstHalf), 3, Duration.ofSeconds(1)));
             SwarmLoop loop = new SwarmLoop()) {
            RegistryClient client = RegistryClient.builder(registry.baseUri()).build();
            client.pushBlob("edge/app", digest, blob);

            MemorySink sink = new MemorySink(digest, blob.length);
            BlobDownload d = BlobDownload.start(loop, hashes, sink, PiecePicker.rarestFirst(),
                    OriginGate.whenNoPeerHolds(Duration.ofMillis(300).toNanos()), DownloadConfig.defaults(), null, null);
            d.addSource(new RegistryPieceSource(client, "edge/app", digest, pool), Bitfield.full(layout.count()));
            d.addSource(new PeerPieceSource("peer", new LayerExchangeClient(peer.opener()), digest, blob.length, pool),
                    firstHalf);
            DownloadResult r = d.completion().get(60, TimeUnit.SECONDS);
            assertArrayEquals(blob, sink.data);
            long secondHalf = blob.length - (long) (layout.count() / 2) * layout.pieceSize();
            assertEquals(secondHalf, r.originBytes());
            // added first, the registry still waited for discovery; its own access log agrees: it sent only the second half (plus nothing else)
            long served = registry.blobBytesServed(digest.toString());
            assertTrue(served >= secondHalf && served < secondHalf + layout.pieceSize(),
                    "registry served " + served + " bytes, expected about " + secondHalf);
        } finally {
            pool.shutdownNow();
        }
    }
}
