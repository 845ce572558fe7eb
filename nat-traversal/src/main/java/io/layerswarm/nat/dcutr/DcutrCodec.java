package io.layerswarm.nat.dcutr;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.nat.dcutr.pb.DcutrProtos;
import java.util.ArrayList;
import java.util.List;

/**
 * Protobuf encoding of {@link HolePunch} messages (libp2p's {@code holepunch.pb.HolePunch}), with bounds: bad
 * input gives a {@link DcutrProtocolException} naming what was wrong. An address this node cannot parse (a
 * protocol it does not know, such as {@code /webrtc}) is skipped, not an error: peers list all they have.
 */
public final class DcutrCodec {
    /** Largest message accepted (the spec's SHOULD: 4 KiB, length prefix excluded). */
    public static final int MAX_MESSAGE_SIZE = 4096;
    /** Most addresses accepted in one CONNECT. */
    public static final int MAX_ADDRS = 32;

    private DcutrCodec() {
    }

    /** Protobuf bytes of {@code m}. */
    public static byte[] encode(HolePunch m) {
        DcutrProtos.HolePunch.Builder b = DcutrProtos.HolePunch.newBuilder().setType(
                m.type() == HolePunch.Type.CONNECT ? DcutrProtos.HolePunch.Type.CONNECT : DcutrProtos.HolePunch.Type.SYNC);
        for (Multiaddr a : m.addrs()) {
            b.addObsAddrs(ByteString.copyFrom(a.bytes()));
        }
        return b.build().toByteArray();
    }

    /** Parses a message: it must have a known type and at most {@value #MAX_ADDRS} addresses. */
    public static HolePunch decode(byte[] bytes) throws DcutrProtocolException {
        if (bytes.length > MAX_MESSAGE_SIZE) {
            throw new DcutrProtocolException("DCUtR message of " + bytes.length + " bytes exceeds " + MAX_MESSAGE_SIZE);
        }
        DcutrProtos.HolePunch m;
        try {
            m = DcutrProtos.HolePunch.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new DcutrProtocolException("DCUtR message is not valid protobuf: " + e.getMessage(), e);
        }
        if (!m.hasType()) {
            throw new DcutrProtocolException("DCUtR message without a (known) type");
        }
        if (m.getObsAddrsCount() > MAX_ADDRS) {
            throw new DcutrProtocolException("DCUtR message with " + m.getObsAddrsCount() + " addresses, at most "
                    + MAX_ADDRS);
        }
        if (m.getType() == DcutrProtos.HolePunch.Type.SYNC) {
            // the addresses of a SYNC mean nothing (js-libp2p sends an empty list): ignored, not refused
            return HolePunch.sync();
        }
        List<Multiaddr> addrs = new ArrayList<>();
        for (ByteString b : m.getObsAddrsList()) {
            try {
                addrs.add(Multiaddr.decode(b.toByteArray()));
            } catch (IllegalArgumentException e) {
                // an address of a protocol we do not know, or a broken one: not one we could dial
            }
        }
        return HolePunch.connect(addrs);
    }
}
