package io.layerswarm.handoff;

import io.layerswarm.handoff.pb.HandoffProtos.ContainerSpec;
import io.layerswarm.handoff.pb.HandoffProtos.HaveReply;
import io.layerswarm.handoff.pb.HandoffProtos.Image;
import io.layerswarm.handoff.pb.HandoffProtos.Request;
import io.layerswarm.handoff.pb.HandoffProtos.RoundResult;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.yamux.YamuxStreamResetException;
import io.layerswarm.transfer.Frames;
import io.layerswarm.transfer.ProtocolException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source side of {@code /layerswarm/handoff/1.0.0}, one stream per request. Opening a stream is
 * tried a second time when the connection it went over closed during the opening (seen in shaped-link
 * benchmarks: {@code multistream: session closed}); nothing of the request was sent then, so the retry
 * cannot apply anything twice, and the host picks or dials a connection that is open.
 */
public final class HandoffClient {
    private static final Logger LOG = LoggerFactory.getLogger(HandoffClient.class);
    /** Largest HaveSet frame accepted. */
    private static final int MAX_HAVE_FRAME = 2 * 1024 * 1024;
    private static final int MAX_RESULT = 64 * 1024;

    /** Opens a stream to a peer for one protocol: the host's, or a test's. */
    @FunctionalInterface
    interface Opener {
        CompletableFuture<P2pStream> open(PeerId peer, List<String> protocols);
    }

    private final Opener opener;
    private final Duration openTimeout;
    private final RoundWriter writer;

    /** @param openTimeout how long opening a stream (dial + negotiation) may take */
    public HandoffClient(Host host, Duration openTimeout, RoundWriter writer) {
        this(Objects.requireNonNull(host, "host")::newStream, openTimeout, writer);
    }

    HandoffClient(Opener opener, Duration openTimeout, RoundWriter writer) {
        this.opener = Objects.requireNonNull(opener, "opener");
        this.openTimeout = Objects.requireNonNull(openTimeout, "openTimeout");
        this.writer = Objects.requireNonNull(writer, "writer");
    }

    /**
     * What a handoff refused by the target (or not confirmed) looks like to the source.
     */
    public static final class HandoffRefusedException extends IOException {
        private final String reason;

        /** @param reason the target's reason code @param message its explanation */
        public HandoffRefusedException(String reason, String message) {
            super(reason + ": " + message);
            this.reason = reason;
        }

        /** The target's reason code (a {@link RoundRejectedException.Reason} name, FORBIDDEN, UNKNOWN_SESSION). */
        public String reason() {
            return reason;
        }
    }

    /** Asks {@code target} which content digests it holds for {@code session}. */
    public Set<String> have(PeerId target, String session) throws IOException {
        P2pStream s = open(target);
        try {
            Frames.write(s.outputStream(), Request.newBuilder().setSession(session).setHave(true).build());
            s.outputStream().flush();
            Set<String> out = new HashSet<>();
            for (;;) {
                HaveReply r = Frames.read(s.inputStream(), HaveReply.parser(), MAX_HAVE_FRAME);
                if (r.hasRefused()) {
                    throw refusal(r.getRefused());
                }
                if (!r.hasSet()) {
                    throw new ProtocolException("empty reply to a have request");
                }
                out.addAll(r.getSet().getSha256List());
                if (r.getSet().getLast()) {
                    return out;
                }
            }
        } finally {
            s.close();
        }
    }

    /**
     * Streams one round to {@code target} and waits for its verdict.
     *
     * @return what was sent
     * @throws HandoffRefusedException if the target refused or did not commit the round
     */
    public RoundStats sendRound(PeerId target, String session, RoundPlan plan, Path sourceRoot) throws IOException {
        P2pStream s = open(target);
        try {
            return sendOn(s, Request.newBuilder().setSession(session).setRound(true).build(), plan, sourceRoot);
        } finally {
            s.close();
        }
    }

    /**
     * Opens a stream to {@code target} ahead of a {@link #sendFinalRound} (before the freeze: its dial and
     * protocol negotiation then stay out of the downtime). The caller closes it.
     */
    public P2pStream openStream(PeerId target) throws IOException {
        return open(target);
    }

    /**
     * What the final round with its restore gave.
     *
     * @param round what was sent
     * @param committedAtNanos {@link System#nanoTime} when the target's commit of the round arrived
     * @param restore the target's install and start times
     */
    public record FinalResult(RoundStats round, long committedAtNanos, HandoffTarget.RestoreStats restore) {
    }

    /**
     * Streams the final round on {@code s} (from {@link #openStream}) and has the target restore right
     * after committing it: two answers on one stream, the round's then the restore's.
     *
     * @throws HandoffRefusedException if the target refused the round or failed the restore
     */
    public FinalResult sendFinalRound(P2pStream s, String session, RoundPlan plan, Path sourceRoot) throws IOException {
        try {
            RoundStats stats = sendOn(s, Request.newBuilder().setSession(session).setRound(true).setRestoreAfter(true)
                    .build(), plan, sourceRoot);
            long committed = System.nanoTime();
            RoundResult r = Frames.read(s.inputStream(), RoundResult.parser(), MAX_RESULT);
            if (!r.getCommitted()) {
                throw refusal(r);
            }
            return new FinalResult(stats, committed, new HandoffTarget.RestoreStats(r.getInstallMicros() / 1e6,
                    r.getStartMicros() / 1e6));
        } finally {
            s.close();
        }
    }

    /** Writes a round request and the round on {@code s}, reads the target's verdict on the round. */
    private RoundStats sendOn(P2pStream s, Request request, RoundPlan plan, Path sourceRoot) throws IOException {
        RoundStats stats;
        try {
            Frames.write(s.outputStream(), request);
            stats = writer.write(plan, sourceRoot, s.outputStream());
            s.outputStream().flush();
            s.closeWrite();
        } catch (IOException e) {
            // The target may have refused mid-stream and said why; prefer its verdict, unless the
            // source itself saw a file change under the writer (then the target's reason is a symptom).
            RoundResult r = tryReadResult(s);
            if (e instanceof SourceChangedException) {
                throw e;
            }
            if (r != null && !r.getCommitted()) {
                throw refusal(r);
            }
            throw e;
        }
        RoundResult r = Frames.read(s.inputStream(), RoundResult.parser(), MAX_RESULT);
        if (!r.getCommitted()) {
            throw refusal(r);
        }
        return stats;
    }

    /** Asks {@code target} to pre-sync {@code image} from the swarm; returns what it fetched. */
    public HandoffTarget.PrepareStats prepare(PeerId target, String session, ImageRef image) throws IOException {
        RoundResult r = control(target, Request.newBuilder().setSession(session).setPrepare(proto(image)).build());
        return new HandoffTarget.PrepareStats(r.getPeerBytes(), r.getRegistryBytes());
    }

    /** Opens {@code session} on {@code target}: it creates the container, not started. */
    public void begin(PeerId target, String session, ContainerConfig config) throws IOException {
        control(target, Request.newBuilder().setSession(session).setBegin(ContainerSpec.newBuilder()
                .setContainerId(config.id()).setImage(proto(config.image())).addAllArgs(config.args())
                .setCwd(config.cwd())).build());
    }

    /** Has {@code target} install the received tree and start the container. */
    public HandoffTarget.RestoreStats restore(PeerId target, String session) throws IOException {
        RoundResult r = control(target, Request.newBuilder().setSession(session).setRestore(true).build());
        return new HandoffTarget.RestoreStats(r.getInstallMicros() / 1e6, r.getStartMicros() / 1e6);
    }

    /**
     * Asks {@code target} how {@code session} ended, aborting it there unless it started (a source's
     * recovery after a crash inside the downtime).
     *
     * @throws IOException if the target cannot be reached or gives no valid outcome
     */
    public HandoffTarget.Outcome resolve(PeerId target, String session) throws IOException {
        RoundResult r = control(target, Request.newBuilder().setSession(session).setResolve(true).build());
        try {
            return HandoffTarget.Outcome.valueOf(r.getOutcome());
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("resolve answered with outcome '" + r.getOutcome() + "'");
        }
    }

    /** Has {@code target} drop the session and what it created. */
    public void abort(PeerId target, String session) throws IOException {
        control(target, Request.newBuilder().setSession(session).setAbort(true).build());
    }

    private static Image proto(ImageRef i) {
        return Image.newBuilder().setNamespace(i.namespace()).setRepository(i.repository()).setDigest(i.digest())
                .build();
    }

    private RoundResult control(PeerId target, Request req) throws IOException {
        P2pStream s = open(target);
        try {
            Frames.write(s.outputStream(), req);
            s.outputStream().flush();
            RoundResult r = Frames.read(s.inputStream(), RoundResult.parser(), MAX_RESULT);
            if (!r.getCommitted()) {
                throw refusal(r);
            }
            return r;
        } finally {
            s.close();
        }
    }

    private static RoundResult tryReadResult(P2pStream s) {
        try {
            return Frames.read(s.inputStream(), RoundResult.parser(), MAX_RESULT);
        } catch (IOException e) {
            return null;
        }
    }

    private static HandoffRefusedException refusal(RoundResult r) {
        return new HandoffRefusedException(r.getReason().isEmpty() ? "ERROR" : r.getReason(), r.getMessage());
    }

    private P2pStream open(PeerId target) throws IOException {
        try {
            return openOnce(target);
        } catch (IOException e) {
            if (!connectionClosed(e)) {
                throw e;
            }
            LOG.info("event=handoff.streamReopened target={} reason=\"{}\"", target.toBase58(), e.getMessage());
            return openOnce(target);
        }
    }

    /** Whether an opening failed because its connection closed under it (not a refusal, not a timeout). */
    static boolean connectionClosed(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof YamuxStreamResetException || t instanceof ClosedChannelException
                    || String.valueOf(t.getMessage()).contains("connection closed during negotiation")) {
                return true;
            }
        }
        return false;
    }

    private P2pStream openOnce(PeerId target) throws IOException {
        try {
            return opener.open(target, List.of(HandoffServer.PROTOCOL))
                    .get(openTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted opening a handoff stream");
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot open " + HandoffServer.PROTOCOL + " to " + target.toBase58() + ": " + e, e);
        }
    }
}
