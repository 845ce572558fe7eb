package io.layerswarm.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
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
import io.layerswarm.swarm.pb.LayerExchangeProtos.LayerResponse;
import io.layerswarm.swarm.pb.LayerExchangeProtos.Status;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LayerExchangeTest extends BashBlobFixture {
    LayerExchangeClient peer(MemoryBlobs blobs, int uploads, Duration wait) throws IOException {
        TcpTestTransport t = new TcpTestTransport(new LayerExchangeServer(blobs, uploads, wait));
        closers.add(t);
        return new LayerExchangeClient(t.opener());
    }

    @Test
    void downloadsFromSeveralPeersOverTheProtocolAndBansACorruptOne() throws Exception {
        Bitfield half = Bitfield.empty(layout.count());
        for (int i = 0; i < layout.count() / 2; i++) {
            half = half.with(i);
        }
        LayerExchangeClient full = peer(new MemoryBlobs(blob, layout, Bitfield.full(layout.count())), 3, Duration.ofSeconds(1));
        LayerExchangeClient partial = peer(new MemoryBlobs(blob, layout, half), 3, Duration.ofSeconds(1));
        MemoryBlobs evil = new MemoryBlobs(blob, layout, Bitfield.full(layout.count()));
        evil.corrupt = true;
        LayerExchangeClient liar = peer(evil, 3, Duration.ofSeconds(1));

        PieceHashes hashes = full.hashes(digest, layout);
        assertEquals(half, partial.have(digest, layout));
        assertEquals(blob.length, full.size(digest));

        MemorySink sink = new MemorySink(digest, blob.length);
        try (SwarmLoop loop = new SwarmLoop()) {
            BlobDownload d = BlobDownload.start(loop, hashes, sink, PiecePicker.rarestFirst(),
                    OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), null, null);
            d.addSource(new PeerPieceSource("liar", liar, digest, blob.length, pool), Bitfield.full(layout.count()));
            d.addSource(new PeerPieceSource("full", full, digest, blob.length, pool), full.have(digest, layout));
            d.addSource(new PeerPieceSource("partial", partial, digest, blob.length, pool), half);
            DownloadResult r = d.completion().get(30, TimeUnit.SECONDS);
            assertArrayEquals(blob, sink.data);
            assertFalse(r.bytesBySource().containsKey("liar"));
            assertTrue(r.badPieces() > 0);
        }
    }

    @Test
    void uploadSlotsAreLimitedAndExcessRequestsAreToldBusy() throws Exception {
        MemoryBlobs blobs = new MemoryBlobs(blob, layout, Bitfield.full(layout.count()));
        blobs.blockReads = new CountDownLatch(1);
        LayerExchangeClient c = peer(blobs, 1, Duration.ofMillis(50));
        CompletableFuture<ByteBuffer> first = CompletableFuture.supplyAsync(() -> {
            try {
                return c.piece(digest, blob.length, 0, PIECE);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, pool);
        // the first request holds the only slot while its read is blocked
        assertTrue(blobs.readBlocked.await(30, TimeUnit.SECONDS), "first request reached the blob");
        LayerExchangeClient.RefusedException busy = assertThrows(LayerExchangeClient.RefusedException.class,
                () -> c.piece(digest, blob.length, PIECE, PIECE));
        assertEquals(Status.BUSY, busy.status());
        blobs.blockReads.countDown();
        assertEquals(ByteBuffer.wrap(blob, 0, PIECE), first.get(10, TimeUnit.SECONDS));
    }

    @Test
    void refusalsAndInconsistentAnswersAreErrors() throws Exception {
        Bitfield none = Bitfield.empty(layout.count());
        LayerExchangeClient empty = peer(new MemoryBlobs(blob, layout, none), 3, Duration.ofSeconds(1));
        assertEquals(Status.UNAVAILABLE, assertThrows(LayerExchangeClient.RefusedException.class,
                () -> empty.piece(digest, blob.length, 0, PIECE)).status());
        Digest unknown = Digest.sha256(new byte[] {1});
        assertEquals(Status.NOT_FOUND, assertThrows(LayerExchangeClient.RefusedException.class,
                () -> empty.have(unknown, layout)).status());
        // a client that believes another size catches the peer's disagreement
        assertThrows(ProtocolException.class, () -> empty.have(digest, new PieceLayout(blob.length + 1, PIECE)));
        assertEquals(Status.BAD_REQUEST, assertThrows(LayerExchangeClient.RefusedException.class,
                () -> empty.piece(digest, blob.length, blob.length - 10, PIECE)).status());
    }

    @Test
    void serverAnswersGarbageWithBadRequestAndBoundedReads() throws Exception {
        LayerExchangeServer server = new LayerExchangeServer(
                new MemoryBlobs(blob, layout, Bitfield.full(layout.count())), 3, Duration.ofSeconds(1));
        Random r = new Random(42);
        for (int i = 0; i < 500; i++) {
            byte[] junk = new byte[r.nextInt(64)];
            r.nextBytes(junk);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                server.serve(new ByteArrayInputStream(junk), out);
            } catch (IOException expected) {
                // ProtocolException or EOF: both fine, nothing else
            }
            assertTrue(out.size() < 1024, "garbage never yields piece data");
        }
        // a frame claiming 2 GiB is refused before anything is allocated
        byte[] huge = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThrows(ProtocolException.class, () -> server.serve(new ByteArrayInputStream(huge), out));
        LayerResponse answer = LayerResponse.parseDelimitedFrom(new ByteArrayInputStream(out.toByteArray()));
        assertEquals(Status.BAD_REQUEST, answer.getStatus());
    }

    @Test
    void clientRejectsGarbageAnswers() {
        Random r = new Random(9);
        for (int i = 0; i < 300; i++) {
            byte[] junk = new byte[r.nextInt(100)];
            r.nextBytes(junk);
            LayerExchangeClient c = new LayerExchangeClient(() -> new ScriptedDuplex(junk, false));
            assertThrows(IOException.class, () -> c.piece(digest, blob.length, 0, PIECE));
            assertThrows(IOException.class, () -> c.hashes(digest, layout));
        }
    }
}
