package io.layerswarm.node;

import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.swarm.pb.LayerExchangeProtos.Announce;
import io.layerswarm.transfer.Frames;
import io.layerswarm.transfer.ProtocolException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sending half of {@value #PROTOCOL} to one peer: announces and claims go out in order on one
 * long-lived stream instead of a new stream each (a stream costs a multistream negotiation and, under
 * load, most of a claim round). The peer answers claims on the same stream, in the order it got them.
 *
 * <p>The stream is opened on the first message. A peer that answers {@code na} to 1.1.0 (it speaks only
 * {@value LayerSwarm#ANNOUNCE_PROTOCOL}) gets every message handed back to the owner to be sent one per
 * stream. A link that fails (reset, a garbage answer, a claim left unanswered) is reopened once while
 * the peer stays connected: the claims it had not answered are sent again first, then the owner is told
 * to send its whole state again ({@link Owner#reopened()}), since plain announces on the dead stream may
 * be lost. A link that fails again hands everything to the per-message path, which retries each message
 * on its own. {@link #close()} (the peer disconnected) hands what is still queued or unanswered to the
 * owner too, so a claim to a peer that left still counts as answered there.
 *
 * <p>Writes run on the owner's executor, one drain at a time; each open stream has one reader thread,
 * which ends with the stream.
 */
final class AnnounceLink implements AutoCloseable {
    /** The announce protocol with one stream per peer. */
    static final String PROTOCOL = "/layerswarm/announce/1.1.0";
    /** Reopens after a failure while the peer stays connected. */
    static final int MAX_REOPENS = 1;
    private static final Logger log = LoggerFactory.getLogger(AnnounceLink.class);

    /** What a link needs from its node. */
    interface Owner {
        /** Opens a blocking stream to the peer proposing {@code protocols} in order (bounded in time). */
        P2pStream open(List<String> protocols) throws IOException;

        /** Whether the peer is still connected. */
        boolean connected();

        /**
         * The peer's answer to {@code claim} (reader thread).
         *
         * @throws ProtocolException if the answer is malformed: the link is reset
         */
        void answered(Announce claim, Announce reply) throws ProtocolException;

        /** A message this link will not carry: to be sent on a stream of its own (1.0.0), or dropped. */
        void perMessage(Announce message);

        /** The link was reopened after a failure: the peer may have missed announces. */
        void reopened();
    }

    private record Pending(Announce message, boolean claim) {
    }

    private final String peer;
    private final Owner owner;
    private final Executor executor;
    // guarded by this
    private final Deque<Pending> queue = new ArrayDeque<>();
    private final Deque<Pending> awaitingReply = new ArrayDeque<>();
    private P2pStream stream;
    private Thread reader;
    private boolean draining;
    private boolean perMessage;
    private boolean resyncOnOpen;
    private boolean closed;
    private int reopens;
    private int opened;

    /**
     * @param peer the peer's id, for logs and the reader thread's name
     * @param owner the node
     * @param executor runs the writes (never blocked reading)
     */
    AnnounceLink(String peer, Owner owner, Executor executor) {
        this.peer = Objects.requireNonNull(peer, "peer");
        this.owner = Objects.requireNonNull(owner, "owner");
        this.executor = Objects.requireNonNull(executor, "executor");
    }

    /** Queues an announce. */
    void send(Announce message) {
        enqueue(new Pending(message, false));
    }

    /** Queues a claim, whose answer goes to {@link Owner#answered}. */
    void claim(Announce message) {
        enqueue(new Pending(message, true));
    }

    /**
     * A claim's answer is overdue: if {@code claim} was written and is still unanswered, the link is
     * reset (and reopened or handed over like any failed link).
     */
    void expire(Announce claim) {
        P2pStream s;
        synchronized (this) {
            if (awaitingReply.stream().noneMatch(p -> p.message == claim)) {
                return;
            }
            s = stream;
        }
        if (s != null) {
            log.debug("event=announce_link_claim_unanswered peer={}", peer);
            failed(s, null, new IOException("claim unanswered"));
        }
    }

    /**
     * Moves the link off a connection that lost to a duplicate (both peers dialled each other): the host
     * closes such a connection only once it carries no stream, and this stream would keep it forever.
     * The stream is closed (what was written still arrives), its unanswered claims go first again, and
     * the next message opens a stream on {@code kept}. Not a failure: the reopen is not used up.
     */
    void moveTo(io.layerswarm.libp2p.host.Connection kept) {
        P2pStream s;
        synchronized (this) {
            s = stream;
            if (s == null || s.connection() == kept || closed) {
                return;
            }
            stream = null;
            reader = null;
            requeueUnanswered();
            if (!queue.isEmpty() && !draining) {
                draining = true;
                executor.execute(this::drain);
            }
        }
        log.debug("event=announce_link_moved peer={}", peer);
        s.close(); // its reader ends quietly: the stream is no longer the link's
    }

    /** Streams opened for this link so far (both versions). */
    synchronized int streamsOpened() {
        return opened;
    }

    /** Whether messages now go one per stream (the peer lacks 1.1.0, or the link failed for good). */
    synchronized boolean isPerMessage() {
        return perMessage;
    }

    /** The reader thread of the open stream, or null. */
    synchronized Thread reader() {
        return reader;
    }

    /** Ends the link (the peer disconnected): what is queued or unanswered goes to {@link Owner#perMessage}. */
    @Override
    public void close() {
        List<Pending> left;
        P2pStream s;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            s = stream;
            stream = null;
            left = new ArrayList<>(awaitingReply);
            left.addAll(queue);
            awaitingReply.clear();
            queue.clear();
        }
        if (s != null) {
            s.reset(); // ends the reader thread
        }
        left.forEach(p -> owner.perMessage(p.message));
    }

    private void enqueue(Pending p) {
        synchronized (this) {
            if (!closed) {
                queue.add(p);
                if (!draining) {
                    draining = true;
                    executor.execute(this::drain);
                }
                return;
            }
        }
        owner.perMessage(p.message);
    }

    private void drain() {
        while (true) {
            Pending p;
            P2pStream s;
            boolean handOver;
            synchronized (this) {
                p = queue.poll();
                if (p == null) {
                    draining = false;
                    return;
                }
                handOver = perMessage || closed;
                s = stream;
            }
            if (handOver) {
                owner.perMessage(p.message);
                continue;
            }
            if (s == null) {
                try {
                    s = open();
                } catch (IOException | RuntimeException e) {
                    boolean retry = mayReopen();
                    log.debug("event=announce_link_open_failed peer={} retry={} error=\"{}\"", peer, retry, e.toString());
                    if (retry) {
                        synchronized (this) {
                            queue.addFirst(p);
                        }
                    } else {
                        owner.perMessage(p.message);
                    }
                    continue;
                }
                if (s == null) {
                    owner.perMessage(p.message);
                    continue;
                }
            }
            try {
                if (p.claim) {
                    synchronized (this) {
                        awaitingReply.add(p);
                    }
                }
                Frames.write(s.outputStream(), p.message);
                s.outputStream().flush();
            } catch (IOException | RuntimeException e) {
                failed(s, p.claim ? null : p, e);
            }
        }
    }

    /** Opens the stream; null if the peer speaks only 1.0.0 (then everything goes per message). */
    private P2pStream open() throws IOException {
        P2pStream s = owner.open(List.of(PROTOCOL, LayerSwarm.ANNOUNCE_PROTOCOL));
        boolean linked = PROTOCOL.equals(s.protocol());
        boolean resync = false;
        synchronized (this) {
            opened++;
            if (!linked) {
                perMessage = true;
            } else if (!closed) {
                stream = s;
                resync = resyncOnOpen;
                resyncOnOpen = false;
                reader = new Thread(() -> read(s), "announce-link-" + peer);
                reader.setDaemon(true);
                reader.start();
            }
        }
        if (!linked) {
            s.close();
            log.debug("event=announce_link_fallback peer={} protocol={}", peer, s.protocol());
            return null;
        }
        if (stream(s)) {
            log.debug("event=announce_link_opened peer={} streams={}", peer, streamsOpened());
            if (resync) {
                owner.reopened();
            }
            return s;
        }
        s.reset();
        throw new IOException("link closed");
    }

    private synchronized boolean stream(P2pStream s) {
        return stream == s;
    }

    private void read(P2pStream s) {
        try {
            while (true) {
                Announce reply = Frames.read(s.inputStream(), Announce.parser(), LayerSwarm.MAX_ANNOUNCE);
                Pending claim;
                synchronized (this) {
                    claim = awaitingReply.poll();
                }
                if (claim == null) {
                    throw new ProtocolException("announce link: an answer to no claim from " + peer);
                }
                if (!reply.getDigest().equals(claim.message.getDigest())) {
                    owner.perMessage(claim.message); // sent again on its own stream, not taken as answered
                    throw new ProtocolException("announce link: claim answer for another blob from " + peer);
                }
                owner.answered(claim.message, reply);
            }
        } catch (IOException | RuntimeException e) {
            // EOFException included: the peer ended the stream (its node closed), reopened if still connected
            failed(s, null, e);
        }
    }

    /**
     * The stream {@code s} failed (writing {@code unsent}, if not null). Claims it had not answered and
     * the unsent announce go first again, on a reopened link or per message.
     */
    private void failed(P2pStream s, Pending unsent, Exception e) {
        List<Pending> handOver = List.of();
        synchronized (this) {
            if (unsent != null) {
                queue.addFirst(unsent);
            }
            if (stream != s) {
                return; // already dealt with (the reader and the writer both noticed)
            }
            stream = null;
            reader = null;
            int resent = requeueUnanswered();
            boolean reopen = !closed && reopens < MAX_REOPENS && owner.connected();
            log.debug("event=announce_link_failed peer={} reopen={} resent={} error=\"{}\"", peer, reopen, resent,
                    e.toString());
            if (reopen) {
                reopens++;
                resyncOnOpen = true;
                if (!queue.isEmpty() && !draining) {
                    draining = true;
                    executor.execute(this::drain);
                } else if (queue.isEmpty()) {
                    // nothing queued to open it: the state must be sent again all the same
                    queue.add(new Pending(Announce.newBuilder().setSynced(true).build(), false));
                    if (!draining) {
                        draining = true;
                        executor.execute(this::drain);
                    }
                }
            } else if (closed) {
                handOver = new ArrayList<>(queue);
                queue.clear();
            } else {
                perMessage = true; // the drain hands the queue over
                if (!draining && !queue.isEmpty()) {
                    draining = true;
                    executor.execute(this::drain);
                }
            }
        }
        s.reset();
        handOver.forEach(p -> owner.perMessage(p.message));
    }

    /** Puts the claims written and not answered back at the head of the queue, in order; how many. Holds the lock. */
    private synchronized int requeueUnanswered() {
        List<Pending> back = new ArrayList<>(awaitingReply);
        awaitingReply.clear();
        for (int i = back.size() - 1; i >= 0; i--) {
            queue.addFirst(back.get(i));
        }
        return back.size();
    }

    /** Whether the link may be opened once more (uses the one reopen); if not, it goes per message. */
    private synchronized boolean mayReopen() {
        if (!closed && reopens < MAX_REOPENS && owner.connected()) {
            reopens++;
            return true;
        }
        perMessage = true;
        return false;
    }
}
