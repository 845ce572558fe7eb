package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.node.BlobStore;
import io.layerswarm.node.LayerSwarm;
import io.layerswarm.node.SwarmConfig;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import io.layerswarm.swarm.DownloadResult;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The content store under the swarm: partial reads, verified commits, and a blob moved between two nodes. */
class SwarmBlobStoreIT {
    @TempDir
    Path tmp;

    static byte[] realBlob() throws IOException {
        return Files.readAllBytes(Path.of("/usr/bin/bash")); // from Debian's bash package
    }

    @Test
    void partialBlobsServeOnlyWrittenRangesAndMismatchesAreReportedAsSuch() throws Exception {
        byte[] blob = realBlob();
        Digest d = Digest.sha256(blob);
        try (ContentStore cs = ContentStore.open(tmp.resolve("s"))) {
            BlobStore store = new SwarmBlobStore(cs);
            BlobStore.WritableBlob w = store.create(d, blob.length);
            w.write(4096, ByteBuffer.wrap(blob, 4096, 8192));
            assertEquals(ByteBuffer.wrap(blob, 5000, 1000), w.read(5000, 1000));
            assertThrows(IOException.class, () -> w.read(0, 10));
            assertThrows(IOException.class, () -> w.read(12000, 1000));
            w.write(0, ByteBuffer.wrap(blob, 0, 4096));
            byte[] rest = java.util.Arrays.copyOfRange(blob, 12288, blob.length);
            rest[0] ^= 1;
            w.write(12288, ByteBuffer.wrap(rest));
            assertThrows(DigestMismatchException.class, w::commit);
            assertFalse(store.size(d).isPresent());

            cs.ingest(d, new ByteArrayInputStream(blob));
            try (InputStream in = store.open(d, 100, 50)) {
                assertArrayEquals(java.util.Arrays.copyOfRange(blob, 100, 150), in.readAllBytes());
            }
            assertEquals(java.util.List.of(d), store.list());
        }
    }

    @Test
    void twoNodesMoveABlobBetweenTheirContentStores() throws Exception {
        byte[] blob = realBlob();
        Digest d = Digest.sha256(blob);
        try (ContentStore sa = ContentStore.open(tmp.resolve("a"));
             ContentStore sb = ContentStore.open(tmp.resolve("b"));
             Host ha = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).build().start();
             Host hb = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).build().start();
             LayerSwarm a = LayerSwarm.start(ha, new SwarmBlobStore(sa), SwarmConfig.defaults());
             LayerSwarm b = LayerSwarm.start(hb, new SwarmBlobStore(sb), SwarmConfig.defaults())) {
            sa.ingest(d, new ByteArrayInputStream(blob));
            hb.connect(ha.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + ha.peerId().toBase58())))
                    .get(10, TimeUnit.SECONDS);
            DownloadResult r = b.fetch(d, blob.length, null).get(60, TimeUnit.SECONDS);
            assertEquals(blob.length, r.peerBytes());
            sb.verify(d);
            try (InputStream in = sb.open(d)) {
                assertArrayEquals(blob, in.readAllBytes());
            }
        }
    }
}
