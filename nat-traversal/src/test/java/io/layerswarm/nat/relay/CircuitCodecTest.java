package io.layerswarm.nat.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PrivateKey;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.Varint;
import io.layerswarm.nat.relay.pb.CircuitProtos;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CircuitCodecTest {
    private final PeerId peer = Ed25519PrivateKey.generate().peerId();

    @Test
    void hopMessagesRoundTrip() throws Exception {
        HopMessage connect = HopMessage.connect(new RelayPeer(peer, List.of(Multiaddr.parse("/ip4/10.0.0.1/tcp/4001"))));
        HopMessage back = CircuitCodec.decodeHop(CircuitCodec.encode(connect));
        assertEquals(HopMessage.Type.CONNECT, back.type());
        assertEquals(peer, back.peer().id());
        assertEquals(List.of(Multiaddr.parse("/ip4/10.0.0.1/tcp/4001")), back.peer().addrs());

        Reservation r = new Reservation(1_700_000_000L, List.of(Multiaddr.parse("/ip4/1.2.3.4/tcp/1/p2p/" + peer.toBase58())),
                new byte[] {1, 2, 3});
        HopMessage status = new HopMessage(HopMessage.Type.STATUS, null, r, new RelayLimit(120, 1 << 17), RelayStatus.OK);
        HopMessage s = CircuitCodec.decodeHop(CircuitCodec.encode(status));
        assertEquals(RelayStatus.OK, s.status());
        assertEquals(new RelayLimit(120, 1 << 17), s.limit());
        assertEquals(1_700_000_000L, s.reservation().expireEpochSeconds());
        assertEquals(r.addrs(), s.reservation().addrs());
        assertArrayEquals(new byte[] {1, 2, 3}, s.reservation().voucher());

        assertNull(CircuitCodec.decodeHop(CircuitCodec.encode(HopMessage.reserve())).peer());
    }

    @Test
    void stopMessagesRoundTrip() throws Exception {
        StopMessage c = CircuitCodec.decodeStop(CircuitCodec.encode(StopMessage.connect(new RelayPeer(peer, List.of()),
                new RelayLimit(0, 5))));
        assertEquals(StopMessage.Type.CONNECT, c.type());
        assertEquals(peer, c.peer().id());
        assertEquals(new RelayLimit(0, 5), c.limit());
        assertEquals(RelayStatus.PERMISSION_DENIED,
                CircuitCodec.decodeStop(CircuitCodec.encode(StopMessage.status(RelayStatus.PERMISSION_DENIED))).status());
    }

    @Test
    void wireValuesFollowTheSpec() {
        // HopMessage{type=CONNECT(1), status=NO_RESERVATION(204)}: field 1 varint 1, field 5 varint 204.
        byte[] bytes = CircuitCodec.encode(new HopMessage(HopMessage.Type.CONNECT, new RelayPeer(peer, List.of()), null,
                null, RelayStatus.NO_RESERVATION));
        assertEquals(0x08, bytes[0]);
        assertEquals(0x01, bytes[1]);
        assertEquals(RelayStatus.NO_RESERVATION.code(), 204);
    }

    @Test
    void garbageIsRefusedWithAClearError() {
        Random rnd = new Random(42);
        for (int i = 0; i < 2000; i++) {
            byte[] junk = new byte[rnd.nextInt(64)];
            rnd.nextBytes(junk);
            try {
                CircuitCodec.decodeHop(junk);
            } catch (CircuitProtocolException e) {
                assertTrue(e.getMessage().length() > 10, e.getMessage());
            }
            try {
                CircuitCodec.decodeStop(junk);
            } catch (CircuitProtocolException e) {
                assertTrue(e.getMessage().length() > 10, e.getMessage());
            }
        }
        assertThrows(CircuitProtocolException.class, () -> CircuitCodec.decodeHop(new byte[] {(byte) 0xff}));
        assertThrows(CircuitProtocolException.class, () -> CircuitCodec.decodeHop(new byte[CircuitCodec.MAX_MESSAGE_SIZE + 1]));
    }

    @Test
    void requiredFieldsAreChecked() {
        assertThrows(CircuitProtocolException.class, () -> CircuitCodec.decodeHop(new byte[0]), "no type");
        byte[] unknownType = CircuitProtos.HopMessage.newBuilder().build().toByteArray();
        assertThrows(CircuitProtocolException.class, () -> CircuitCodec.decodeHop(concat(unknownType, new byte[] {0x08, 0x09})));
        byte[] connectNoPeer = CircuitProtos.HopMessage.newBuilder().setType(CircuitProtos.HopMessage.Type.CONNECT)
                .build().toByteArray();
        assertThrows(CircuitProtocolException.class, () -> CircuitCodec.decodeHop(connectNoPeer));
        byte[] statusWithout = CircuitProtos.StopMessage.newBuilder().setType(CircuitProtos.StopMessage.Type.STATUS)
                .build().toByteArray();
        assertThrows(CircuitProtocolException.class, () -> CircuitCodec.decodeStop(statusWithout));
        byte[] badPeer = CircuitProtos.HopMessage.newBuilder().setType(CircuitProtos.HopMessage.Type.CONNECT)
                .setPeer(CircuitProtos.Peer.newBuilder().setId(ByteString.copyFromUtf8("not a peer id"))).build().toByteArray();
        CircuitProtocolException e = assertThrows(CircuitProtocolException.class, () -> CircuitCodec.decodeHop(badPeer));
        assertTrue(e.getMessage().contains("peer id"), e.getMessage());
        CircuitProtos.Peer.Builder many = CircuitProtos.Peer.newBuilder().setId(ByteString.copyFrom(peer.bytes()));
        for (int i = 0; i <= CircuitCodec.MAX_ADDRS; i++) {
            many.addAddrs(ByteString.copyFrom(Multiaddr.parse("/ip4/10.0.0.1/tcp/" + (i + 1)).bytes()));
        }
        byte[] tooMany = CircuitProtos.HopMessage.newBuilder().setType(CircuitProtos.HopMessage.Type.CONNECT)
                .setPeer(many).build().toByteArray();
        assertThrows(CircuitProtocolException.class, () -> CircuitCodec.decodeHop(tooMany));
    }

    @Test
    void unknownAddressesAreSkippedNotFatal() throws Exception {
        byte[] m = CircuitProtos.HopMessage.newBuilder().setType(CircuitProtos.HopMessage.Type.CONNECT)
                .setPeer(CircuitProtos.Peer.newBuilder().setId(ByteString.copyFrom(peer.bytes()))
                        .addAddrs(ByteString.copyFrom(new byte[] {(byte) 0xee, 0x7f, 1}))
                        .addAddrs(ByteString.copyFrom(Multiaddr.parse("/ip4/1.1.1.1/tcp/2").bytes())))
                .build().toByteArray();
        assertEquals(List.of(Multiaddr.parse("/ip4/1.1.1.1/tcp/2")), CircuitCodec.decodeHop(m).peer().addrs());
    }

    @Test
    void voucherIsAnEnvelopeSignedByTheRelay() throws Exception {
        PrivateKey relay = Ed25519PrivateKey.generate();
        CircuitProtos.Envelope env = CircuitProtos.Envelope.parseFrom(CircuitCodec.voucher(relay, peer, 99));
        assertArrayEquals(relay.publicKey().marshal(), env.getPublicKey().toByteArray());
        assertArrayEquals(new byte[] {(byte) 0x82, 0x06}, env.getPayloadType().toByteArray());
        CircuitProtos.ReservationVoucher v = CircuitProtos.ReservationVoucher.parseFrom(env.getPayload());
        assertEquals(relay.peerId(), PeerId.fromBytes(v.getRelay().toByteArray()));
        assertEquals(peer, PeerId.fromBytes(v.getPeer().toByteArray()));
        assertEquals(99, v.getExpiration());
        ByteArrayOutputStream signed = new ByteArrayOutputStream();
        for (byte[] part : new byte[][] {"libp2p-relay-rsvp".getBytes(StandardCharsets.UTF_8), env.getPayloadType().toByteArray(),
            env.getPayload().toByteArray()}) {
            signed.writeBytes(Varint.encode(part.length));
            signed.writeBytes(part);
        }
        assertTrue(relay.publicKey().verify(signed.toByteArray(), env.getSignature().toByteArray()));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
