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
    private final HandoffTarget target;

    /**
     * A server for rounds only (no container behind it): control requests are refused.
     *
     * @param allowed which authenticated peers may hand off to this node ({@code p -> true}: any swarm peer)
     * @param sessions the receiver of a handoff session by id, empty if unknown
     */
    public HandoffServer(Predicate<PeerId> allowed, Function<String, Optional<RoundReceiver>> sessions) {
        this(allowed, roundsOnly(Objects.requireNonNull(sessions, "sessions")));
    }

    /**
     * @param allowed which authenticated peers may hand off to this node ({@code p -> true}: any swarm peer)
     * @param target what this node does as a handoff target
     */
    public HandoffServer(Predicate<PeerId> allowed, HandoffTarget target) {
        this.allowed = Objects.requireNonNull(allowed, "allowed");
        this.target = Objects.requireNonNull(target, "target");
    }

    private static HandoffTarget roundsOnly(Function<String, Optional<RoundReceiver>> sessions) {
        return new HandoffTarget() {
            @Override
            public Optional<RoundReceiver> receiver(PeerId peer, String session) {
                return sessions.apply(session);
            }

            @Override
            public PrepareStats prepare(PeerId peer, ImageRef image) throws IOException {
                throw new IOException("this node runs no containers");
            }

            @Override
            public void begin(PeerId peer, String session, ContainerConfig config) throws IOException {
                throw new IOException("this node runs no containers");
            }

            @Override
            public RestoreStats restore(PeerId peer, String session) throws IOException {
                throw new IOException("this node runs no containers");
            }

            @Override
            public void abort(PeerId peer, String session) throws IOException {
                throw new IOException("this node runs no containers");
            }
        };
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
        switch (req.getKindCase()) {
            case HAVE, ROUND -> {
                Optional<RoundReceiver> receiver = target.receiver(peer, req.getSession());
                if (receiver.isEmpty()) {
                    answer(out, req, RoundResult.newBuilder().setReason("UNKNOWN_SESSION")
                            .setMessage("no handoff session " + req.getSession()).build());
                } else if (req.hasHave()) {
                    sendHave(receiver.get(), out);
                } else {
                    receiveRound(peer, req, receiver.get(), in, out);
                }
            }
            case PREPARE, BEGIN, RESTORE, ABORT, RESOLVE -> answer(out, req, control(peer, req));
            default -> answer(out, req, RoundResult.newBuilder().setReason("CORRUPT").setMessage("empty request").build());
        }
    }

    /** Runs one control request; a failure is the answer, with its message. */
    private RoundResult control(PeerId peer, Request req) {
        try {
            RoundResult.Builder ok = RoundResult.newBuilder().setCommitted(true);
            switch (req.getKindCase()) {
                case PREPARE -> {
                    HandoffTarget.PrepareStats st = target.prepare(peer, image(req.getPrepare()));
                    ok.setPeerBytes(st.peerBytes()).setRegistryBytes(st.registryBytes());
                }
                case BEGIN -> {
                    var b = req.getBegin();
                    target.begin(peer, req.getSession(), new ContainerConfig(b.getContainerId(), image(b.getImage()),
                            b.getArgsList(), b.getCwd()));
                }
                case RESTORE -> restored(ok, target.restore(peer, req.getSession()));
                case RESOLVE -> {
                    HandoffTarget.Outcome o = target.resolve(peer, req.getSession());
                    LOG.info("event=handoff.resolved peer={} session={} outcome={}", peer.toBase58(), req.getSession(), o);
                    ok.setOutcome(o.name());
                }
                default -> target.abort(peer, req.getSession());
            }
            return ok.build();
        } catch (IOException | RuntimeException e) {
            LOG.warn("event=handoff.controlFailed peer={} session={} request={} error=\"{}\"", peer.toBase58(),
                    req.getSession(), req.getKindCase(), e.getMessage());
            String reason = e instanceof IllegalArgumentException ? "CORRUPT" : "ERROR";
            return RoundResult.newBuilder().setReason(reason).setMessage(String.valueOf(e.getMessage())).build();
        }
    }

    private static RoundResult.Builder restored(RoundResult.Builder b, HandoffTarget.RestoreStats st) {
        return b.setInstallMicros(Math.round(st.installSeconds() * 1e6)).setStartMicros(Math.round(st.startSeconds() * 1e6));
    }

    private static ImageRef image(io.layerswarm.handoff.pb.HandoffProtos.Image i) {
        return new ImageRef(i.getNamespace(), i.getRepository(), i.getDigest());
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

    private void receiveRound(PeerId peer, Request req, RoundReceiver receiver, InputStream in,
                              OutputStream out) throws IOException {
        String session = req.getSession();
        RoundResult result;
        try {
            RoundStats stats = receiver.receive(in);
            target.committed(peer, session);
            result = RoundResult.newBuilder().setCommitted(true).setRound(stats.round())
                    .setContentBytes(stats.contentBytes()).build();
        } catch (RoundRejectedException e) {
            LOG.warn("event=handoff.roundRefused peer={} session={} reason={}", peer.toBase58(), session, e.reason());
            result = RoundResult.newBuilder().setReason(e.reason().name()).setMessage(e.getMessage()).build();
        } catch (IOException e) {
            // committed here but not applied to the container: the source rolls back
            LOG.warn("event=handoff.applyFailed peer={} session={} error=\"{}\"", peer.toBase58(), session,
                    e.getMessage());
            result = RoundResult.newBuilder().setReason("ERROR").setMessage(String.valueOf(e.getMessage())).build();
        }
        answer(out, null, result);
        if (req.getRestoreAfter()) {
            // the final diff: restore on this stream (its opening and a round trip stay out of the downtime);
            // a refused round is answered once more as refused, so the source reads one answer per step
            answer(out, null, result.getCommitted() ? control(peer, req.toBuilder().setRestore(true).build())
                    : result);
        }
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
