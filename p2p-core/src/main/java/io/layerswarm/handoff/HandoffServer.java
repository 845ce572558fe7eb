package io.layerswarm.handoff;

import io.layerswarm.handoff.pb.HandoffProtos.HaveReply;
import io.layerswarm.handoff.pb.HandoffProtos.HaveSet;
import io.layerswarm.handoff.pb.HandoffProtos.Request;
import io.layerswarm.handoff.pb.HandoffProtos.RoundResult;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.transfer.Frames;
import io.layerswarm.transfer.ProtocolException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target side of {@code /layerswarm/handoff/1.0.0}: tells a source which content digests it
 * holds and receives rounds into the session's {@link RoundReceiver}. Peers are authenticated by the
 * libp2p security handshake (and kept to the swarm by the host's private-network key when it has
 * one); {@code allowed} narrows them further (an allow-list), every other peer is refused.
 */
public final class HandoffServer {
    /** Protocol id. */
    public static final String PROTOCOL = "/layerswarm/handoff/1.0.0";
    private static final Logger LOG = LoggerFactory.getLogger(HandoffServer.class);
    private static final int MAX_REQUEST = 4096;
    /** Digests per HaveSet frame: 65 bytes each on the wire keeps a frame near 1 MiB. */
    static final int HAVE_BATCH = 16_000;

    private final Predicate<PeerId> allowed;
    private final Function<String, Optional<RoundReceiver>> sessions;

    /**
     * @param allowed which authenticated peers may hand off to this node ({@code p -> true}: any swarm peer)
     * @param sessions the receiver of a handoff session by id, empty if unknown
     */
    public HandoffServer(Predicate<PeerId> allowed, Function<String, Optional<RoundReceiver>> sessions) {
        this.allowed = Objects.requireNonNull(allowed, "allowed");
        this.sessions = Objects.requireNonNull(sessions, "sessions");
    }

    /** Serves the protocol on {@code host} with blocking I/O. */
    public void attach(Host host) {
        host.setBlockingHandler(PROTOCOL, this::handle);
    }

    private void handle(P2pStream s) throws IOException {
        serve(s.remotePeer(), s.inputStream(), s.outputStream());
    }

    /** Serves one request from an authenticated {@code peer}. */
    public void serve(PeerId peer, InputStream in, OutputStream out) throws IOException {
        Request req;
        try {
            req = Frames.read(in, Request.parser(), MAX_REQUEST);
        } catch (ProtocolException e) {
            answer(out, null, RoundResult.newBuilder().setReason("CORRUPT").setMessage(e.getMessage()).build());
            return;
        }
        if (!allowed.test(peer)) {
            LOG.warn("event=handoff.forbidden peer={} session={}", peer.toBase58(), req.getSession());
            answer(out, req, RoundResult.newBuilder().setReason("FORBIDDEN")
                    .setMessage("peer " + peer.toBase58() + " may not hand off to this node").build());
            return;
        }
        Optional<RoundReceiver> receiver = sessions.apply(req.getSession());
        if (receiver.isEmpty()) {
            answer(out, req, RoundResult.newBuilder().setReason("UNKNOWN_SESSION")
                    .setMessage("no handoff session " + req.getSession()).build());
            return;
        }
        switch (req.getKindCase()) {
            case HAVE -> sendHave(receiver.get(), out);
            case ROUND -> receiveRound(peer, req.getSession(), receiver.get(), in, out);
            default -> answer(out, req, RoundResult.newBuilder().setReason("CORRUPT").setMessage("empty request").build());
        }
    }

    private static void sendHave(RoundReceiver receiver, OutputStream out) throws IOException {
        List<String> all = new ArrayList<>(receiver.have());
        int i = 0;
        do {
            int end = Math.min(all.size(), i + HAVE_BATCH);
            Frames.write(out, HaveReply.newBuilder().setSet(HaveSet.newBuilder().addAllSha256(all.subList(i, end))
                    .setLast(end == all.size())).build());
            i = end;
        } while (i < all.size());
        out.flush();
    }

    private static void receiveRound(PeerId peer, String session, RoundReceiver receiver, InputStream in,
                                     OutputStream out) throws IOException {
        RoundResult result;
        try {
            RoundStats stats = receiver.receive(in);
            result = RoundResult.newBuilder().setCommitted(true).setRound(stats.round())
                    .setContentBytes(stats.contentBytes()).build();
        } catch (RoundRejectedException e) {
            LOG.warn("event=handoff.roundRefused peer={} session={} reason={}", peer.toBase58(), session, e.reason());
            result = RoundResult.newBuilder().setReason(e.reason().name()).setMessage(e.getMessage()).build();
        }
        answer(out, null, result);
    }

    /** Answers a have request's refusal in its own reply type, everything else as a RoundResult. */
    private static void answer(OutputStream out, Request req, RoundResult r) throws IOException {
        if (req != null && req.hasHave()) {
            Frames.write(out, HaveReply.newBuilder().setRefused(r).build());
        } else {
            Frames.write(out, r);
        }
        out.flush();
    }
}
