package io.layerswarm.k8s.preheat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.libp2p.multiformats.Varint;
import io.layerswarm.oci.Platform;
import io.layerswarm.testing.DecoderContract;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Round trips, and garbage: random, truncated, oversized and ill-typed input gets a clear error, nothing else. */
class PreheatCodecTest {
    private static final String LAYER = "sha256:" + "ab".repeat(32);
    private static final String CONFIG = "sha256:" + "cd".repeat(32);
    private final PreheatCodec codec = new PreheatCodec();
    private final PeerId peer = PeerId.fromPublicKey(Ed25519PrivateKey.generate().publicKey());

    private PreheatRequest request() {
        return new PreheatRequest("127.0.0.1:5000", "team/app", "1.0", Platform.linuxAmd64(),
                Map.of(LAYER, peer.toBase58(), CONFIG, PreheatRequest.REGISTRY),
                Map.of(peer.toBase58(), List.of("/ip4/10.0.0.2/tcp/4001")));
    }

    @Test
    void requestAndReplyRoundTripThroughFrames() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        codec.write(out, request());
        assertEquals(request(), codec.readRequest(new ByteArrayInputStream(out.toByteArray())));
        assertEquals(List.of(peer), request().hintedPeers());

        PreheatReply reply = new PreheatReply(PreheatReply.Status.OK, "", List.of(
                new BlobOutcome(CONFIG, 0, 0, true, null), new BlobOutcome(LAYER, 1234, 5, false, null)), 42);
        out.reset();
        codec.write(out, reply);
        PreheatReply back = codec.readReply(new ByteArrayInputStream(out.toByteArray()));
        assertEquals(reply, back);
        assertEquals(1234, back.peerBytes());
        assertEquals(5, back.registryBytes());
        // one request always encodes to the same bytes (sorted keys)
        assertTrue(Arrays.equals(codec.encode(request()), codec.encode(request())));
    }

    @Test
    void illFormedFieldsAreNamed() {
        String good = new String(codec.encode(request()), StandardCharsets.UTF_8);
        assertRejected(good.replace(LAYER, "sha256:nothex"), "digest");
        assertRejected(good.replace(peer.toBase58() + "\"", "not-a-peer\""), "peer id");
        assertRejected(good.replace("/ip4/10.0.0.2/tcp/4001", "10.0.0.2:4001"), "multiaddr");
        assertRejected(good.replace("linux/amd64", "linux"), "platform");
        assertRejected(good.replace("\"namespace\":\"127.0.0.1:5000\"", "\"namespace\":\"\""), "namespace");
        assertRejected(good.replace("{\"namespace\"", "{\"extra\":1,\"namespace\""), "extra");
        assertRejected(good.replace("\"reference\":\"1.0\",", ""), "reference");
        assertRejected("null", "null");
        assertRejected(good + "{}", "trailing");
        Map<String, String> many = new HashMap<>();
        for (int i = 0; i <= PreheatRequest.MAX_SOURCES; i++) {
            many.put("sha256:" + String.format("%064x", i), PreheatRequest.REGISTRY);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PreheatRequest("r:1", "a",
                "b", Platform.linuxAmd64(), many, Map.of()));
        assertTrue(e.getMessage().contains("source hints"), e.getMessage());
        ProtocolException reply = assertThrows(ProtocolException.class, () -> codec.decodeReply(
                "{\"status\":\"MAYBE\",\"message\":\"\",\"blobs\":[],\"elapsedMillis\":0}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(reply.getMessage().contains("malformed preheat reply"), reply.getMessage());
        ProtocolException negative = assertThrows(ProtocolException.class, () -> codec.decodeReply(("{\"status\":\"OK\","
                + "\"message\":\"\",\"blobs\":[{\"digest\":\"" + LAYER + "\",\"peerBytes\":-1,\"registryBytes\":0,"
                + "\"local\":false}],\"elapsedMillis\":0}").getBytes(StandardCharsets.UTF_8)));
        assertTrue(negative.getMessage().contains("negative"), negative.getMessage());
    }

    private void assertRejected(String json, String mention) {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> codec.decodeRequest(json.getBytes(StandardCharsets.UTF_8)), json);
        assertTrue(e.getMessage().startsWith("malformed preheat request") || e.getMessage().startsWith("invalid preheat request"),
                e.getMessage());
        assertTrue(e.getMessage().toLowerCase(java.util.Locale.ROOT).contains(mention.toLowerCase(java.util.Locale.ROOT)),
                e.getMessage());
    }

    @Test
    void oversizedAndTruncatedFramesGetAClearError() {
        byte[] huge = Varint.encode(PreheatCodec.MAX_REQUEST_BYTES + 1L);
        ProtocolException big = assertThrows(ProtocolException.class, () -> codec.readRequest(new ByteArrayInputStream(huge)));
        assertTrue(big.getMessage().contains("frame too large"), big.getMessage());
        ProtocolException bigReply = assertThrows(ProtocolException.class,
                () -> codec.decodeReply(new byte[PreheatCodec.MAX_REPLY_BYTES + 1]));
        assertTrue(bigReply.getMessage().contains("exceeds"), bigReply.getMessage());

        ProtocolException empty = assertThrows(ProtocolException.class, () -> codec.readReply(new ByteArrayInputStream(new byte[0])));
        assertTrue(empty.getMessage().contains("stream closed before a preheat reply"), empty.getMessage());

        byte[] frame = LengthPrefixed.frame(codec.encode(request()));
        for (int cut = 1; cut < frame.length; cut++) {
            byte[] part = Arrays.copyOf(frame, cut);
            IOException e = assertThrows(IOException.class, () -> codec.readRequest(new ByteArrayInputStream(part)));
            assertTrue(e instanceof EOFException || e instanceof ProtocolException, e.toString());
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), e.toString());
        }
    }

    @Test
    void randomAndMutatedBytesNeverCrashTheDecoders() {
        DecoderContract contract = DecoderContract.allowing(16L << 20, ProtocolException.class, EOFException.class);
        Random random = new Random(20261205L); // fixed: a failure reproduces
        byte[] good = LengthPrefixed.frame(codec.encode(request()));
        for (int i = 0; i < 1000; i++) {
            byte[] input;
            if (i % 2 == 0) {
                input = new byte[random.nextInt(512)];
                random.nextBytes(input);
            } else {
                input = good.clone();
                for (int m = 1 + random.nextInt(4); m > 0; m--) {
                    input[random.nextInt(input.length)] = (byte) random.nextInt(256);
                }
            }
            byte[] bytes = input;
            contract.check(() -> codec.readRequest(new ByteArrayInputStream(bytes)));
            contract.check(() -> codec.readReply(new ByteArrayInputStream(bytes)));
            contract.check(() -> codec.decodeRequest(bytes));
            contract.check(() -> codec.decodeReply(bytes));
        }
    }
}
