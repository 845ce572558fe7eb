package io.layerswarm.libp2p.identify;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.layerswarm.libp2p.crypto.Keys;
import io.layerswarm.libp2p.crypto.PublicKey;
import io.layerswarm.libp2p.identify.pb.IdentifyProtos;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Identify message protobuf encoding with limits; bad input gives {@link IllegalArgumentException}. */
public final class IdentifyCodec {
    /** Largest identify message accepted (js-libp2p sends at most 8 KiB by default). */
    public static final int MAX_MESSAGE_SIZE = 64 * 1024;
    /** Most listen addresses / protocols taken from one message. */
    public static final int MAX_ENTRIES = 128;

    private IdentifyCodec() {
    }

    /** Protobuf bytes of {@code info}. */
    public static byte[] encode(IdentifyInfo info) {
        IdentifyProtos.Identify.Builder b = IdentifyProtos.Identify.newBuilder()
                .setProtocolVersion(info.protocolVersion())
                .setAgentVersion(info.agentVersion())
                .setPublicKey(ByteString.copyFrom(info.publicKey().marshal()))
                .addAllProtocols(info.protocols());
        for (Multiaddr a : info.listenAddrs()) {
            b.addListenAddrs(ByteString.copyFrom(a.bytes()));
        }
        info.observedAddr().ifPresent(a -> b.setObservedAddr(ByteString.copyFrom(a.bytes())));
        return b.build().toByteArray();
    }

    /** Parses an identify message; requires a valid public key, skips addresses that do not decode. */
    public static IdentifyInfo decode(byte[] bytes) {
        if (bytes.length > MAX_MESSAGE_SIZE) {
            throw new IllegalArgumentException("identify message of " + bytes.length + " bytes exceeds "
                    + MAX_MESSAGE_SIZE);
        }
        IdentifyProtos.Identify m;
        try {
            m = IdentifyProtos.Identify.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("identify message is not valid protobuf: " + e.getMessage(), e);
        }
        if (!m.hasPublicKey()) {
            throw new IllegalArgumentException("identify message without public key");
        }
        PublicKey key = Keys.unmarshalPublicKey(m.getPublicKey().toByteArray());
        if (m.getListenAddrsCount() > MAX_ENTRIES || m.getProtocolsCount() > MAX_ENTRIES) {
            throw new IllegalArgumentException("identify message lists too many addresses or protocols");
        }
        List<Multiaddr> addrs = new ArrayList<>();
        for (ByteString a : m.getListenAddrsList()) {
            decodeAddr(a).ifPresent(addrs::add);
        }
        Optional<Multiaddr> observed = m.hasObservedAddr() ? decodeAddr(m.getObservedAddr()) : Optional.empty();
        return new IdentifyInfo(key, m.getProtocolVersion(), m.getAgentVersion(), addrs, observed,
                m.getProtocolsList());
    }

    private static Optional<Multiaddr> decodeAddr(ByteString b) {
        try {
            return Optional.of(Multiaddr.decode(b.toByteArray()));
        } catch (IllegalArgumentException e) {
            // Addresses of transports we do not know are legal; they are just not usable here.
            return Optional.empty();
        }
    }
}
