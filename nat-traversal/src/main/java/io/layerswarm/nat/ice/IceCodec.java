package io.layerswarm.nat.ice;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.layerswarm.nat.ice.pb.IceProtos;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Protobuf encoding of {@link IceMessage}s, with bounds: bad input gives an {@link IceProtocolException}
 * naming what was wrong, never a half-filled message.
 */
public final class IceCodec {
    /** Largest message accepted: {@value IceMessage#MAX_CANDIDATES} candidates and credentials fit well. */
    public static final int MAX_MESSAGE_SIZE = 2048;

    private IceCodec() {
    }

    /** Protobuf bytes of {@code m}. */
    public static byte[] encode(IceMessage m) {
        IceProtos.IceMessage.Builder b = IceProtos.IceMessage.newBuilder()
                .setType(IceProtos.IceMessage.Type.forNumber(m.type().ordinal()));
        if (m.ufrag() != null) {
            b.setUfrag(m.ufrag()).setPwd(m.pwd());
        }
        for (IceCandidate c : m.candidates()) {
            b.addCandidates(IceProtos.Candidate.newBuilder()
                    .setKind(IceProtos.Candidate.Kind.forNumber(c.kind().ordinal()))
                    .setFoundation(c.foundation())
                    .setIp(ByteString.copyFrom(c.address().getAddress().getAddress()))
                    .setPort(c.address().getPort())
                    .setPriority(c.priority()));
        }
        if (!m.reason().isEmpty()) {
            b.setReason(m.reason());
        }
        return b.build().toByteArray();
    }

    /** Parses a message; the fields its type needs must be present and within their bounds. */
    public static IceMessage decode(byte[] bytes) throws IceProtocolException {
        if (bytes.length > MAX_MESSAGE_SIZE) {
            throw new IceProtocolException("ICE message of " + bytes.length + " bytes exceeds " + MAX_MESSAGE_SIZE);
        }
        IceProtos.IceMessage m;
        try {
            m = IceProtos.IceMessage.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IceProtocolException("ICE message is not valid protobuf: " + e.getMessage(), e);
        }
        if (!m.hasType()) {
            throw new IceProtocolException("ICE message without a (known) type");
        }
        if (m.getCandidatesCount() > IceMessage.MAX_CANDIDATES) {
            throw new IceProtocolException("ICE message with " + m.getCandidatesCount() + " candidates, at most "
                    + IceMessage.MAX_CANDIDATES);
        }
        try {
            List<IceCandidate> candidates = new ArrayList<>();
            for (IceProtos.Candidate c : m.getCandidatesList()) {
                candidates.add(candidate(c));
            }
            return new IceMessage(IceMessage.Type.values()[m.getType().getNumber()],
                    m.hasUfrag() ? m.getUfrag() : null, m.hasPwd() ? m.getPwd() : null, candidates,
                    m.hasReason() ? m.getReason() : null);
        } catch (IllegalArgumentException e) {
            throw new IceProtocolException("bad ICE message: " + e.getMessage(), e);
        }
    }

    private static IceCandidate candidate(IceProtos.Candidate c) throws IceProtocolException {
        if (!c.hasKind() || !c.hasFoundation() || !c.hasIp() || !c.hasPort() || !c.hasPriority()) {
            throw new IceProtocolException("candidate lacks kind, foundation, ip, port or priority");
        }
        byte[] ip = c.getIp().toByteArray();
        if (ip.length != 4 && ip.length != 16) {
            throw new IceProtocolException("candidate IP of " + ip.length + " bytes (4 or 16 expected)");
        }
        if (c.getPort() < 1 || c.getPort() > 65535) {
            throw new IceProtocolException("candidate port out of range: " + Integer.toUnsignedString(c.getPort()));
        }
        InetAddress addr;
        try {
            addr = InetAddress.getByAddress(ip);
        } catch (UnknownHostException e) {
            throw new IceProtocolException("bad candidate IP", e);
        }
        return new IceCandidate(IceCandidate.Kind.values()[c.getKind().getNumber()], c.getFoundation(),
                new InetSocketAddress(addr, c.getPort()), c.getPriority());
    }
}
