package io.layerswarm.libp2p.kad;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.layerswarm.libp2p.kad.pb.KadProtos;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts {@link KadMessage} to and from its protobuf encoding. Framing (the unsigned-varint length
 * prefix) is done by {@link KadFraming}; this class only sees one message body.
 */
public final class KadMessageCodec {

    /**
     * Largest message body accepted: 4 MiB, the limit go-libp2p-kad-dht (msgio) and js-libp2p
     * (it-length-prefixed default) apply.
     */
    public static final int MAX_MESSAGE_SIZE = 4 << 20;
    /** Peer ids are multihashes; identity-hashed keys stay below this. */
    static final int MAX_PEER_ID_SIZE = 256;
    /** Multiaddrs per peer accepted; more are dropped rather than kept in memory. */
    static final int MAX_ADDRS_PER_PEER = 64;
    /** Binary multiaddr size bound. */
    static final int MAX_ADDR_SIZE = 1024;

    private KadMessageCodec() {
    }

    /** Encodes the message body (no length prefix). */
    public static byte[] encode(KadMessage m) {
        KadProtos.Message.Builder b = KadProtos.Message.newBuilder()
                .setTypeValue(m.type().ordinal())
                .setKey(ByteString.copyFrom(m.key()));
        if (m.record() != null) {
            b.setRecord(KadProtos.Record.newBuilder()
                    .setKey(ByteString.copyFrom(m.record().key()))
                    .setValue(ByteString.copyFrom(m.record().value()))
                    .setTimeReceived(m.record().timeReceived()));
        }
        for (KadPeer p : m.closerPeers()) {
            b.addCloserPeers(toProto(p));
        }
        for (KadPeer p : m.providerPeers()) {
            b.addProviderPeers(toProto(p));
        }
        byte[] out = b.build().toByteArray();
        if (out.length > MAX_MESSAGE_SIZE) {
            throw new IllegalArgumentException("kad message too large: " + out.length + " > " + MAX_MESSAGE_SIZE);
        }
        return out;
    }

    /**
     * Decodes one message body.
     *
     * @throws KadProtocolException if the bytes are not a valid kad message
     */
    public static KadMessage decode(byte[] body) throws KadProtocolException {
        if (body.length > MAX_MESSAGE_SIZE) {
            throw new KadProtocolException("kad message too large: " + body.length + " > " + MAX_MESSAGE_SIZE);
        }
        KadProtos.Message pb;
        try {
            CodedInputStream in = CodedInputStream.newInstance(body);
            in.setRecursionLimit(8);
            pb = KadProtos.Message.parseFrom(in);
            in.checkLastTagWas(0);
        } catch (InvalidProtocolBufferException e) {
            throw new KadProtocolException("malformed kad message: " + e.getMessage(), e);
        } catch (java.io.IOException e) {
            throw new KadProtocolException("malformed kad message: " + e.getMessage(), e);
        }
        if (pb.getType() == KadProtos.Message.MessageType.UNRECOGNIZED) {
            throw new KadProtocolException("unknown kad message type " + pb.getTypeValue());
        }
        KadMessage.Type type = KadMessage.Type.values()[pb.getTypeValue()];
        KadRecord record = null;
        if (pb.hasRecord()) {
            KadProtos.Record r = pb.getRecord();
            record = new KadRecord(r.getKey().toByteArray(), r.getValue().toByteArray(), r.getTimeReceived());
        }
        return new KadMessage(type, pb.getKey().toByteArray(), record,
                fromProto(pb.getCloserPeersList()), fromProto(pb.getProviderPeersList()));
    }

    private static KadProtos.Message.Peer toProto(KadPeer p) {
        KadProtos.Message.Peer.Builder b = KadProtos.Message.Peer.newBuilder()
                .setId(ByteString.copyFrom(p.id()))
                .setConnectionValue(p.connection().ordinal());
        for (byte[] a : p.addrs()) {
            b.addAddrs(ByteString.copyFrom(a));
        }
        return b.build();
    }

    private static List<KadPeer> fromProto(List<KadProtos.Message.Peer> peers) throws KadProtocolException {
        List<KadPeer> out = new ArrayList<>(peers.size());
        for (KadProtos.Message.Peer p : peers) {
            int idLen = p.getId().size();
            if (idLen == 0 || idLen > MAX_PEER_ID_SIZE) {
                throw new KadProtocolException("invalid peer id length " + idLen + " in kad message");
            }
            List<byte[]> addrs = new ArrayList<>();
            for (ByteString a : p.getAddrsList()) {
                if (addrs.size() == MAX_ADDRS_PER_PEER) {
                    break;
                }
                if (a.size() > 0 && a.size() <= MAX_ADDR_SIZE) {
                    addrs.add(a.toByteArray());
                }
            }
            int conn = p.getConnectionValue();
            KadPeer.Connection c = conn >= 0 && conn < KadPeer.Connection.values().length
                    ? KadPeer.Connection.values()[conn] : KadPeer.Connection.NOT_CONNECTED;
            out.add(new KadPeer(p.getId().toByteArray(), addrs, c));
        }
        return out;
    }
}
