package io.layerswarm.nat.relay;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PrivateKey;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.Varint;
import io.layerswarm.nat.relay.pb.CircuitProtos;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Protobuf encoding of circuit relay v2 messages, with limits: bad input gives a
 * {@link CircuitProtocolException} naming what was wrong, never a half-filled message.
 */
public final class CircuitCodec {
    /** Largest relay message accepted (js-libp2p also caps them at 4 KiB). */
    public static final int MAX_MESSAGE_SIZE = 4096;
    /** Most addresses taken from one peer or reservation. */
    public static final int MAX_ADDRS = 32;
    /** Signed-envelope domain of reservation vouchers. */
    static final String VOUCHER_DOMAIN = "libp2p-relay-rsvp";
    /** Multicodec 0x0302 ({@code libp2p-relay-rsvp}) as the envelope's payload type. */
    static final byte[] VOUCHER_PAYLOAD_TYPE = Varint.encode(0x0302);

    private CircuitCodec() {
    }

    /** Protobuf bytes of a hop message. */
    public static byte[] encode(HopMessage m) {
        CircuitProtos.HopMessage.Builder b = CircuitProtos.HopMessage.newBuilder()
                .setType(CircuitProtos.HopMessage.Type.forNumber(m.type().ordinal()));
        if (m.peer() != null) {
            b.setPeer(peer(m.peer()));
        }
        if (m.reservation() != null) {
            CircuitProtos.Reservation.Builder r = CircuitProtos.Reservation.newBuilder()
                    .setExpire(m.reservation().expireEpochSeconds());
            m.reservation().addrs().forEach(a -> r.addAddrs(ByteString.copyFrom(a.bytes())));
            if (m.reservation().voucher().length > 0) {
                r.setVoucher(ByteString.copyFrom(m.reservation().voucher()));
            }
            b.setReservation(r);
        }
        if (m.limit() != null) {
            b.setLimit(limit(m.limit()));
        }
        if (m.status() != null) {
            b.setStatus(CircuitProtos.Status.forNumber(m.status().code()));
        }
        return b.build().toByteArray();
    }

    /** Protobuf bytes of a stop message. */
    public static byte[] encode(StopMessage m) {
        CircuitProtos.StopMessage.Builder b = CircuitProtos.StopMessage.newBuilder()
                .setType(CircuitProtos.StopMessage.Type.forNumber(m.type().ordinal()));
        if (m.peer() != null) {
            b.setPeer(peer(m.peer()));
        }
        if (m.limit() != null) {
            b.setLimit(limit(m.limit()));
        }
        if (m.status() != null) {
            b.setStatus(CircuitProtos.Status.forNumber(m.status().code()));
        }
        return b.build().toByteArray();
    }

    /** Parses a hop message; the fields its type needs must be present. */
    public static HopMessage decodeHop(byte[] bytes) throws CircuitProtocolException {
        checkSize(bytes);
        CircuitProtos.HopMessage m;
        try {
            m = CircuitProtos.HopMessage.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new CircuitProtocolException("hop message is not valid protobuf: " + e.getMessage(), e);
        }
        if (!m.hasType()) {
            throw new CircuitProtocolException("hop message without a (known) type");
        }
        HopMessage.Type type = HopMessage.Type.values()[m.getType().getNumber()];
        RelayPeer peer = m.hasPeer() ? peer(m.getPeer()) : null;
        if (type == HopMessage.Type.CONNECT && peer == null) {
            throw new CircuitProtocolException("hop CONNECT without a peer");
        }
        RelayStatus status = m.hasStatus() ? status(m.getStatus()) : null;
        if (type == HopMessage.Type.STATUS && status == null) {
            throw new CircuitProtocolException("hop STATUS without a (known) status");
        }
        Reservation reservation = null;
        if (m.hasReservation()) {
            CircuitProtos.Reservation r = m.getReservation();
            if (!r.hasExpire()) {
                throw new CircuitProtocolException("reservation without expiry");
            }
            reservation = new Reservation(r.getExpire(), addrs(r.getAddrsList()), r.getVoucher().toByteArray());
        }
        return new HopMessage(type, peer, reservation, m.hasLimit() ? limit(m.getLimit()) : null, status);
    }

    /** Parses a stop message; the fields its type needs must be present. */
    public static StopMessage decodeStop(byte[] bytes) throws CircuitProtocolException {
        checkSize(bytes);
        CircuitProtos.StopMessage m;
        try {
            m = CircuitProtos.StopMessage.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new CircuitProtocolException("stop message is not valid protobuf: " + e.getMessage(), e);
        }
        if (!m.hasType()) {
            throw new CircuitProtocolException("stop message without a (known) type");
        }
        StopMessage.Type type = StopMessage.Type.values()[m.getType().getNumber()];
        RelayPeer peer = m.hasPeer() ? peer(m.getPeer()) : null;
        if (type == StopMessage.Type.CONNECT && peer == null) {
            throw new CircuitProtocolException("stop CONNECT without a peer");
        }
        RelayStatus status = m.hasStatus() ? status(m.getStatus()) : null;
        if (type == StopMessage.Type.STATUS && status == null) {
            throw new CircuitProtocolException("stop STATUS without a (known) status");
        }
        return new StopMessage(type, peer, m.hasLimit() ? limit(m.getLimit()) : null, status);
    }

    /**
     * A reservation voucher: a signed envelope (domain {@code libp2p-relay-rsvp}, payload type 0x0302)
     * carrying the relay id, the reserving peer and the expiry, signed by the relay.
     */
    public static byte[] voucher(PrivateKey relayKey, PeerId peer, long expireEpochSeconds) {
        byte[] payload = CircuitProtos.ReservationVoucher.newBuilder()
                .setRelay(ByteString.copyFrom(relayKey.peerId().bytes()))
                .setPeer(ByteString.copyFrom(peer.bytes()))
                .setExpiration(expireEpochSeconds).build().toByteArray();
        ByteArrayOutputStream signed = new ByteArrayOutputStream();
        for (byte[] part : new byte[][] {VOUCHER_DOMAIN.getBytes(StandardCharsets.UTF_8), VOUCHER_PAYLOAD_TYPE, payload}) {
            signed.writeBytes(Varint.encode(part.length));
            signed.writeBytes(part);
        }
        return CircuitProtos.Envelope.newBuilder()
                .setPublicKey(ByteString.copyFrom(relayKey.publicKey().marshal()))
                .setPayloadType(ByteString.copyFrom(VOUCHER_PAYLOAD_TYPE))
                .setPayload(ByteString.copyFrom(payload))
                .setSignature(ByteString.copyFrom(relayKey.sign(signed.toByteArray())))
                .build().toByteArray();
    }

    private static void checkSize(byte[] bytes) throws CircuitProtocolException {
        if (bytes.length > MAX_MESSAGE_SIZE) {
            throw new CircuitProtocolException("relay message of " + bytes.length + " bytes exceeds " + MAX_MESSAGE_SIZE);
        }
    }

    private static CircuitProtos.Peer peer(RelayPeer p) {
        CircuitProtos.Peer.Builder b = CircuitProtos.Peer.newBuilder().setId(ByteString.copyFrom(p.id().bytes()));
        p.addrs().forEach(a -> b.addAddrs(ByteString.copyFrom(a.bytes())));
        return b.build();
    }

    private static RelayPeer peer(CircuitProtos.Peer p) throws CircuitProtocolException {
        PeerId id;
        try {
            id = PeerId.fromBytes(p.getId().toByteArray());
        } catch (IllegalArgumentException e) {
            throw new CircuitProtocolException("bad peer id in relay message: " + e.getMessage(), e);
        }
        return new RelayPeer(id, addrs(p.getAddrsList()));
    }

    private static List<Multiaddr> addrs(List<ByteString> raw) throws CircuitProtocolException {
        if (raw.size() > MAX_ADDRS) {
            throw new CircuitProtocolException("relay message lists " + raw.size() + " addresses (max " + MAX_ADDRS + ")");
        }
        List<Multiaddr> out = new ArrayList<>();
        for (ByteString b : raw) {
            try {
                out.add(Multiaddr.decode(b.toByteArray()));
            } catch (IllegalArgumentException e) {
                // Addresses of transports we do not know are legal; they are just not usable here.
            }
        }
        return out;
    }

    private static CircuitProtos.Limit limit(RelayLimit l) {
        CircuitProtos.Limit.Builder b = CircuitProtos.Limit.newBuilder();
        if (l.durationSeconds() > 0) {
            b.setDuration((int) l.durationSeconds());
        }
        if (l.dataBytes() > 0) {
            b.setData(l.dataBytes());
        }
        return b.build();
    }

    private static RelayLimit limit(CircuitProtos.Limit l) throws CircuitProtocolException {
        long data = l.getData();
        if (data < 0) {
            throw new CircuitProtocolException("relay data limit out of range: " + Long.toUnsignedString(data));
        }
        return new RelayLimit(Integer.toUnsignedLong(l.getDuration()), data);
    }

    private static RelayStatus status(CircuitProtos.Status s) {
        for (RelayStatus r : RelayStatus.values()) {
            if (r.code() == s.getNumber()) {
                return r;
            }
        }
        throw new IllegalStateException("status " + s + " has no RelayStatus");
    }
}
