package io.layerswarm.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.Bitfield;
import io.layerswarm.swarm.BlobDownload;
import io.layerswarm.swarm.DownloadConfig;
import io.layerswarm.swarm.MemorySink;
import io.layerswarm.swarm.OriginGate;
import io.layerswarm.swarm.PieceHashes;
import io.layerswarm.swarm.PieceLayout;
import io.layerswarm.swarm.PiecePicker;
import io.layerswarm.swarm.SwarmLoop;
import io.layerswarm.swarm.pb.LayerExchangeProtos.HaveQuery;
import io.layerswarm.swarm.pb.LayerExchangeProtos.LayerRequest;
import io.layerswarm.swarm.pb.LayerExchangeProtos.LayerResponse;
import io.layerswarm.swarm.pb.LayerExchangeProtos.PieceQuery;
import io.layerswarm.swarm.pb.LayerExchangeProtos.Status;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link LayerExchangeServer#SESSION_PROTOCOL}: one stream carries request after request, so a download
 * opens a few streams per peer instead of one per piece; refusals keep a stream in step; a kept stream
 * found dead is replaced without failing the request; garbage in either direction ends the stream.
 */
class LayerSessionTest extends BashBlobFixture {
    TcpTestTransport transport(boolean sessions) throws IOException {
        MemoryBlobs held = new MemoryBlobs(blob, layout, Bitfield.full(layout.count()));
        TcpTestTransport t = new TcpTestTransport(new LayerExchangeServer(held, 3, Duration.ofSeconds(30)), sessions);
        closers.add(t);
        return t;
    }

    /** Downloads the blob from one peer through {@code c}; every request must succeed (no timeouts on a slow CI). */
    void download(LayerExchangeClient c) throws Exception {
        PieceHashes hashes = c.hashes(digest, layout);
        MemorySink sink = new MemorySink(digest, blob.length);
        DownloadConfig config = DownloadConfig.defaults().withMinRequestTimeout(Duration.ofMinutes(2));
        try (SwarmLoop loop = new SwarmLoop()) {
            BlobDownload d = BlobDownload.start(loop, hashes, sink, PiecePicker.rarestFirst(),
                    OriginGate.whenNoPeerHolds(), config, null, null);
            d.addSource(new PeerPieceSource("peer", c, digest, blob.length, pool), c.have(digest, layout));
            d.completion().get(60, TimeUnit.SECONDS);
        }
        assertArrayEquals(blob, sink.data);
    }

    @Test
    void aDownloadFromOnePeerOpensAFewStreamsNotOnePerPiece() throws Exception {
        assertTrue(layout.count() >= 16, layout.count() + " pieces");
        int inFlight = DownloadConfig.defaults().maxInflightPerPeer();

        TcpTestTransport sessions = transport(true);
        LayerExchangeClient c = new LayerExchangeClient(sessions.opener());
        download(c);
        // hashes and have share the first stream; then at most one stream per request in flight
        assertTrue(c.streamsOpened() >= 1 && c.streamsOpened() <= inFlight,
                c.streamsOpened() + " streams for " + layout.count() + " pieces");
        assertEquals(c.streamsOpened(), sessions.accepted.get());
        assertEquals(0, c.retriedOnNewStream());
        assertTrue(c.idleStreams() >= 1, "the streams wait for the next request");

        // the same download one request per stream: a stream per piece plus the two queries
        TcpTestTransport single = transport(false);
        LayerExchangeClient old = new LayerExchangeClient(single.opener());
        download(old);
        assertEquals(layout.count() + 2, old.streamsOpened());
        assertEquals(layout.count() + 2, single.accepted.get());
        assertEquals(0, old.idleStreams());
    }

    @Test
    void refusalsLeaveTheStreamInStepForTheNextRequest() throws Exception {
        MemoryBlobs half = new MemoryBlobs(blob, layout, Bitfield.empty(layout.count()).with(1));
        TcpTestTransport t = new TcpTestTransport(new LayerExchangeServer(half, 3, Duration.ofSeconds(30)), true);
        closers.add(t);
        LayerExchangeClient c = new LayerExchangeClient(t.opener());
        assertEquals(Status.UNAVAILABLE, assertThrows(LayerExchangeClient.RefusedException.class,
                () -> c.piece(digest, blob.length, 0, PIECE)).status());
        assertEquals(Status.NOT_FOUND, assertThrows(LayerExchangeClient.RefusedException.class,
                () -> c.have(Digest.sha256(new byte[] {1}), layout)).status());
        assertEquals(Status.BAD_REQUEST, assertThrows(LayerExchangeClient.RefusedException.class,
                () -> c.piece(digest, blob.length, blob.length - 10, PIECE)).status());
        assertEquals(ByteBuffer.wrap(blob, PIECE, PIECE), c.piece(digest, blob.length, PIECE, PIECE));
        assertEquals(1, c.streamsOpened());
        assertEquals(1, t.accepted.get());
        c.close();
        assertEquals(0, c.idleStreams());
    }

    /** A kept stream whose other end went away while it sat idle: the request goes out again on a new one. */
    @Test
    void aKeptStreamFoundDeadIsReplacedWithoutFailingTheRequest() throws Exception {
        TcpTestTransport oneShot = transport(false); // the server ends every stream after one answer
        StreamOpener claimsReuse = () -> new Forwarding(oneShot.opener().open());
        LayerExchangeClient c = new LayerExchangeClient(claimsReuse);
        assertEquals(blob.length, c.size(digest));
        assertEquals(1, c.idleStreams());
        assertEquals(ByteBuffer.wrap(blob, 0, PIECE), c.piece(digest, blob.length, 0, PIECE));
        assertEquals(2, c.streamsOpened());
        assertEquals(1, c.retriedOnNewStream());
    }

    /**
     * Client side of the new framing: after a good answer the kept stream delivers garbage. The request
     * fails with an {@link IOException}, and a stream whose answer was anything but a complete refusal is
     * closed, never handed to the next request.
     */
    @Test
    void garbageOnAKeptStreamFailsTheRequestAndClosesTheStream() throws Exception {
        byte[] good = frame(LayerResponse.newBuilder().setSize(blob.length).setPieceSize(PIECE)
                .setBitfield(com.google.protobuf.ByteString.copyFrom(Bitfield.full(layout.count()).toBytes())).build());
        Random r = new Random(16);
        for (int i = 0; i < 300; i++) {
            byte[] junk = new byte[r.nextInt(120)];
            r.nextBytes(junk);
            byte[] script = concat(good, junk);
            List<ScriptedDuplex> opened = new ArrayList<>();
            LayerExchangeClient c = new LayerExchangeClient(() -> {
                ScriptedDuplex s = new ScriptedDuplex(script, true);
                opened.add(s);
                return s;
            });
            assertEquals(Bitfield.full(layout.count()), c.have(digest, layout));
            IOException e = assertThrows(IOException.class, () -> c.piece(digest, blob.length, 0, PIECE));
            ScriptedDuplex first = opened.get(0);
            if (!(e instanceof LayerExchangeClient.RefusedException)) {
                assertTrue(first.closed, "junk " + i + " (" + e + "): the stream was closed");
                assertEquals(0, c.idleStreams());
            }
            assertTrue(opened.size() <= 2, "at most one retry on a new stream");
        }
    }

    /**
     * Server side of the new framing: valid requests, then garbage. The valid ones are answered in order,
     * each answer one well-formed frame followed by exactly its data; whatever the garbage, the session
     * ends with a protocol error or end of stream, and nothing but well-formed answers is written.
     */
    @Test
    void garbageAfterValidRequestsEndsTheSessionWithWellFormedAnswersOnly() throws Exception {
        LayerExchangeServer server = new LayerExchangeServer(
                new MemoryBlobs(blob, layout, Bitfield.full(layout.count())), 3, Duration.ofSeconds(1));
        Random r = new Random(1611);
        for (int i = 0; i < 300; i++) {
            int valid = r.nextInt(4);
            ByteArrayOutputStream requests = new ByteArrayOutputStream();
            for (int k = 0; k < valid; k++) {
                Frames.write(requests, pieceRequest(k * PIECE, 100 + k));
            }
            byte[] junk = new byte[r.nextInt(80)];
            r.nextBytes(junk);
            requests.write(junk);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                server.serveSession(new ByteArrayInputStream(requests.toByteArray()), out);
            } catch (ProtocolException | EOFException expected) {
                // the garbage ended the session
            }
            InputStream answers = new ByteArrayInputStream(out.toByteArray());
            for (int k = 0; k < valid; k++) {
                LayerResponse a = Frames.read(answers, LayerResponse.parser(), Frames.MAX_FRAME);
                assertEquals(Status.OK, a.getStatus());
                assertEquals(100 + k, a.getDataLength());
                assertArrayEquals(Arrays.copyOfRange(blob, k * PIECE, k * PIECE + 100 + k), answers.readNBytes(100 + k));
            }
            // whatever the garbage decoded to, the rest is whole answers
            LayerResponse a;
            while ((a = Frames.readOrEnd(answers, LayerResponse.parser(), Frames.MAX_FRAME)) != null) {
                if (a.getStatus() == Status.OK && a.getDataLength() > 0) {
                    assertEquals(a.getDataLength(), answers.readNBytes(a.getDataLength()).length);
                }
            }
        }
        // a frame claiming 2 GiB after a good request: answered, then refused before any allocation
        ByteArrayOutputStream requests = new ByteArrayOutputStream();
        Frames.write(requests, pieceRequest(0, 10));
        requests.write(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07});
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThrows(ProtocolException.class,
                () -> server.serveSession(new ByteArrayInputStream(requests.toByteArray()), out));
        InputStream answers = new ByteArrayInputStream(out.toByteArray());
        assertEquals(10, Frames.read(answers, LayerResponse.parser(), Frames.MAX_FRAME).getDataLength());
        answers.readNBytes(10);
        assertEquals(Status.BAD_REQUEST, Frames.read(answers, LayerResponse.parser(), Frames.MAX_FRAME).getStatus());
        assertEquals(-1, answers.read());
    }

    @Test
    void aSessionThatEndsBetweenRequestsIsANormalEnd() throws Exception {
        LayerExchangeServer server = new LayerExchangeServer(
                new MemoryBlobs(blob, layout, Bitfield.full(layout.count())), 3, Duration.ofSeconds(1));
        ByteArrayOutputStream requests = new ByteArrayOutputStream();
        Frames.write(requests, LayerRequest.newBuilder().setDigest(digest.toString())
                .setHave(HaveQuery.newBuilder().setPieceSize(PIECE)).build());
        Frames.write(requests, pieceRequest(PIECE, PIECE));
        assertEquals(2, server.serveSession(new ByteArrayInputStream(requests.toByteArray()),
                new ByteArrayOutputStream()));
        assertEquals(0, server.serveSession(new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream()));
        assertEquals(PIECE, server.bytesServed(), "one piece served");
    }

    private LayerRequest pieceRequest(long offset, int length) {
        return LayerRequest.newBuilder().setDigest(digest.toString())
                .setPiece(PieceQuery.newBuilder().setOffset(offset).setLength(length)).build();
    }

    private static byte[] frame(LayerResponse r) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Frames.write(b, r);
        return b.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Marks another stream reusable, whatever its peer does. */
    private static final class Forwarding implements Duplex {
        private final Duplex d;

        Forwarding(Duplex d) {
            this.d = d;
        }

        @Override
        public InputStream in() {
            return d.in();
        }

        @Override
        public OutputStream out() {
            return d.out();
        }

        @Override
        public void close() throws IOException {
            d.close();
        }

        @Override
        public boolean reusable() {
            return true;
        }
    }
}
