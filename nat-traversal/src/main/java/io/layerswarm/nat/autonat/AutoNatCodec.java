package io.layerswarm.nat.autonat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.nat.autonat.pb.AutoNatProtos;
import java.util.ArrayList;
import java.util.List;

/** AutoNAT v1 message encoding with limits; bad input gives {@link AutoNatException}. */
public final class AutoNatCodec {
    /** Largest message accepted. */
    public static final int MAX_MESSAGE_SIZE = 4096;
    /** Most addresses taken from one dial request. */
    public static final int MAX_ADDRS = 32;

    private AutoNatCodec() {
    }

    /** A DIAL request for {@code peer} at {@code addrs}. */
    public static byte[] encodeDial(PeerId peer, List<Multiaddr> addrs) {
        AutoNatProtos.Message.PeerInfo.Builder p = AutoNatProtos.Message.PeerInfo.newBuilder()
                .setId(ByteString.copyFrom(peer.bytes()));
        addrs.forEach(a -> p.addAddrs(ByteString.copyFrom(a.bytes())));
        return AutoNatProtos.Message.newBuilder().setType(AutoNatProtos.Message.MessageType.DIAL)
                .setDial(AutoNatProtos.Message.Dial.newBuilder().setPeer(p)).build().toByteArray();
    }

    /** A DIAL_RESPONSE. */
    public static byte[] encodeResponse(DialResponse r) {
        AutoNatProtos.Message.DialResponse.Builder d = AutoNatProtos.Message.DialResponse.newBuilder()
                .setStatus(AutoNatProtos.Message.ResponseStatus.forNumber(r.status().code())).setStatusText(r.text());
        if (r.addr() != null) {
            d.setAddr(ByteString.copyFrom(r.addr().bytes()));
        }
        return AutoNatProtos.Message.newBuilder().setType(AutoNatProtos.Message.MessageType.DIAL_RESPONSE)
                .setDialResponse(d).build().toByteArray();
    }

    /** A decoded DIAL request: the peer and its decodable addresses. */
    public record Dial(PeerId peer, List<Multiaddr> addrs) {
        /** Copies the list. */
        public Dial {
            addrs = List.copyOf(addrs);
        }
    }

    /** Parses a DIAL request. */
    public static Dial decodeDial(byte[] bytes) throws AutoNatException {
        AutoNatProtos.Message m = parse(bytes);
        if (!m.hasType() || m.getType() != AutoNatProtos.Message.MessageType.DIAL || !m.hasDial()
                || !m.getDial().hasPeer()) {
            throw new AutoNatException("expected a DIAL message with peer info");
        }
        AutoNatProtos.Message.PeerInfo p = m.getDial().getPeer();
        PeerId id;
        try {
            id = PeerId.fromBytes(p.getId().toByteArray());
        } catch (IllegalArgumentException e) {
            throw new AutoNatException("bad peer id in DIAL: " + e.getMessage());
        }
        if (p.getAddrsCount() > MAX_ADDRS) {
            throw new AutoNatException("DIAL lists " + p.getAddrsCount() + " addresses (max " + MAX_ADDRS + ")");
        }
        List<Multiaddr> addrs = new ArrayList<>();
        for (ByteString b : p.getAddrsList()) {
            try {
                addrs.add(Multiaddr.decode(b.toByteArray()));
            } catch (IllegalArgumentException e) {
                // An address of a transport we do not know: not dialable by us, skipped.
            }
        }
        return new Dial(id, addrs);
    }

    /** Parses a DIAL_RESPONSE. */
    public static DialResponse decodeResponse(byte[] bytes) throws AutoNatException {
        AutoNatProtos.Message m = parse(bytes);
        if (!m.hasType() || m.getType() != AutoNatProtos.Message.MessageType.DIAL_RESPONSE || !m.hasDialResponse()
                || !m.getDialResponse().hasStatus()) {
            throw new AutoNatException("expected a DIAL_RESPONSE message with a (known) status");
        }
        AutoNatProtos.Message.DialResponse d = m.getDialResponse();
        DialResponse.Status status = null;
        for (DialResponse.Status s : DialResponse.Status.values()) {
            if (s.code() == d.getStatus().getNumber()) {
                status = s;
            }
        }
        Multiaddr addr = null;
        if (d.hasAddr()) {
            try {
                addr = Multiaddr.decode(d.getAddr().toByteArray());
            } catch (IllegalArgumentException e) {
                throw new AutoNatException("bad address in DIAL_RESPONSE: " + e.getMessage());
            }
        }
        return new DialResponse(status, d.getStatusText(), addr);
    }

    private static AutoNatProtos.Message parse(byte[] bytes) throws AutoNatException {
        if (bytes.length > MAX_MESSAGE_SIZE) {
            throw new AutoNatException("autonat message of " + bytes.length + " bytes exceeds " + MAX_MESSAGE_SIZE);
        }
        try {
            return AutoNatProtos.Message.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new AutoNatException("autonat message is not valid protobuf: " + e.getMessage());
        }
    }
}
