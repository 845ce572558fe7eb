package io.layerswarm.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.Bitfield;
import io.layerswarm.swarm.PieceHashes;
import io.layerswarm.swarm.PieceLayout;
import io.layerswarm.swarm.pb.LayerExchangeProtos.LayerResponse;
import io.layerswarm.swarm.pb.LayerExchangeProtos.Status;
import io.layerswarm.testing.DecoderContract;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Fuzzes {@code /layerswarm/layer/1.0.0} from both ends. Server: any request bytes get a well-formed
 * response (piece bytes exactly as held) or a {@link ProtocolException}/{@link java.io.EOFException}.
 * Client: any response bytes to each query give an answer or an {@link IOException} naming the problem.
 */
class LayerExchangeFuzzTest {
    /** The one blob the fuzzed server holds: bytes {@code i % 251}. */
    static final byte[] BLOB = blob(100_000);
    static final Digest DIGEST = Digest.sha256(BLOB);
    private static final PieceLayout LAYOUT = new PieceLayout(BLOB.length, PieceLayout.MIN_PIECE_SIZE);
    private static final LayerExchangeServer SERVER = new LayerExchangeServer(new Held(), 2, Duration.ZERO);
    /** Responses are bounded by the frame limit; the blob's piece hashes for tiny pieces stay far below. */
    private static final DecoderContract SERVE = DecoderContract.allowing(64L << 20, IOException.class);
    private static final DecoderContract ASK = DecoderContract.allowing(64L << 20, IOException.class);

    @FuzzTest
    void serve(byte[] request) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SERVE.check(() -> {
            SERVER.serve(new ByteArrayInputStream(request), out);
            return null;
        });
        if (out.size() == 0) {
            return;
        }
        // whatever the request, the answer is one well-formed frame (plus exactly the piece bytes)
        InputStream answer = new ByteArrayInputStream(out.toByteArray());
        LayerResponse r = Frames.read(answer, LayerResponse.parser(), Frames.MAX_FRAME);
        byte[] rest = answer.readAllBytes();
        assertEquals(r.getStatus() == Status.OK ? r.getDataLength() : 0, rest.length);
        if (r.getStatus() == Status.OK && r.getDataLength() > 0) {
            assertTrue(indexOf(BLOB, rest) >= 0, "served bytes are a slice of the blob");
        }
    }

    /**
     * {@link LayerExchangeServer#SESSION_PROTOCOL}: any bytes, read as a sequence of requests, give a
     * sequence of well-formed answers (each OK piece answer followed by exactly its data, bytes of the
     * blob) and then a normal end, a {@link ProtocolException} or an {@link java.io.EOFException}.
     */
    @FuzzTest
    void serveSession(byte[] requests) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SERVE.check(() -> SERVER.serveSession(new ByteArrayInputStream(requests), out));
        InputStream answers = new ByteArrayInputStream(out.toByteArray());
        LayerResponse r;
        while ((r = Frames.readOrEnd(answers, LayerResponse.parser(), Frames.MAX_FRAME)) != null) {
            if (r.getStatus() == Status.OK && r.getDataLength() > 0) {
                byte[] data = answers.readNBytes(r.getDataLength());
                assertEquals(r.getDataLength(), data.length);
                assertTrue(indexOf(BLOB, data) >= 0, "served bytes are a slice of the blob");
            }
        }
    }

    /** The first byte picks the query (have, size, hashes, piece); the rest is the peer's answer. */
    @FuzzTest
    void ask(byte[] input) {
        int query = input.length == 0 ? 0 : (input[0] & 0xff) % 4;
        byte[] response = input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length);
        LayerExchangeClient client = new LayerExchangeClient(() -> new Duplex() {
            private final InputStream in = new ByteArrayInputStream(response);
            private final OutputStream out = OutputStream.nullOutputStream();

            @Override
            public InputStream in() {
                return in;
            }

            @Override
            public OutputStream out() {
                return out;
            }

            @Override
            public void close() {
            }
        });
        ASK.check(() -> switch (query) {
            case 0 -> client.have(DIGEST, LAYOUT);
            case 1 -> client.size(DIGEST);
            case 2 -> client.hashes(DIGEST, LAYOUT);
            default -> {
                java.nio.ByteBuffer b = client.piece(DIGEST, BLOB.length, 0, 1000);
                assertEquals(1000, b.remaining());
                yield b;
            }
        });
    }

    private static final class Held implements LocalBlobs {
        @Override
        public OptionalLong size(Digest digest) {
            return digest.equals(DIGEST) ? OptionalLong.of(BLOB.length) : OptionalLong.empty();
        }

        @Override
        public Optional<Bitfield> pieces(Digest digest, PieceLayout layout) {
            BitSet even = new BitSet();
            for (int i = 0; i < layout.count(); i += 2) {
                even.set(i);
            }
            return Optional.of(Bitfield.of(layout.count(), even));
        }

        @Override
        public Optional<PieceHashes> hashes(Digest digest, PieceLayout layout) throws IOException {
            return Optional.of(PieceHashes.compute(digest, layout, new ByteArrayInputStream(BLOB)));
        }

        @Override
        public InputStream open(Digest digest, long offset, int length) throws IOException {
            if (offset < 0 || length < 0 || offset + length > BLOB.length) {
                throw new IOException("range " + offset + "+" + length + " not held");
            }
            return new ByteArrayInputStream(BLOB, (int) offset, length);
        }
    }

    private static byte[] blob(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i % 251);
        }
        return b;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        // the blob repeats every 251 bytes, so the slice starts within the first period if anywhere
        for (int i = 0; i < 251 && i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        return -1;
    }
}
