package io.layerswarm.libp2p.kad;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * One iterative Kademlia lookup: keeps the candidates ordered by distance to the target, keeps up
 * to {@code alpha} queries in flight to the closest unqueried ones and finishes when the {@code k}
 * closest candidates that did not fail have all answered (or when the listener asks to stop).
 */
final class Lookup {

    /** Reacts to each answer; a {@code true} return ends the lookup early. */
    interface Listener {
        boolean onResponse(KadPeer from, KadMessage response);

        void onFailure(KadPeer peer, Throwable error);
    }

    private enum State { NEW, WAITING, QUERIED, FAILED }

    private static final class Candidate {
        final KadPeer peer;
        State state = State.NEW;

        Candidate(KadPeer peer) {
            this.peer = peer;
        }
    }

    private final KadId self;
    private final int k;
    private final int alpha;
    private final Function<KadPeer, CompletableFuture<KadMessage>> query;
    private final Listener listener;
    private final TreeMap<KadId, Candidate> candidates;
    private final CompletableFuture<List<KadPeer>> result = new CompletableFuture<>();
    private int inFlight;
    private int queried;
    private boolean done;

    Lookup(KadId self, KadId target, int k, int alpha,
           Function<KadPeer, CompletableFuture<KadMessage>> query, Listener listener) {
        this.self = self;
        this.k = k;
        this.alpha = alpha;
        this.query = query;
        this.listener = listener;
        this.candidates = new TreeMap<>(target::compareDistance);
    }

    /** Starts from the given seeds; completes with the k closest peers that answered. */
    CompletableFuture<List<KadPeer>> run(List<KadPeer> seeds) {
        synchronized (this) {
            seeds.forEach(this::addCandidate);
        }
        step();
        return result;
    }

    /** Number of peers that answered, for logs and tests. */
    synchronized int queriedCount() {
        return queried;
    }

    private void addCandidate(KadPeer p) {
        KadId id = p.kadId();
        if (!id.equals(self)) {
            candidates.putIfAbsent(id, new Candidate(p));
        }
    }

    private void step() {
        List<Candidate> launch = new ArrayList<>();
        List<KadPeer> finished = null;
        synchronized (this) {
            if (done) {
                return;
            }
            int seen = 0;
            boolean allQueried = true;
            for (Candidate c : candidates.values()) {
                if (c.state == State.FAILED) {
                    continue;
                }
                if (seen++ == k) {
                    break;
                }
                if (c.state != State.QUERIED) {
                    allQueried = false;
                }
                if (c.state == State.NEW && inFlight < alpha) {
                    c.state = State.WAITING;
                    inFlight++;
                    launch.add(c);
                }
            }
            if (allQueried) {
                done = true;
                finished = closestQueried();
            }
        }
        if (finished != null) {
            result.complete(finished);
            return;
        }
        for (Candidate c : launch) {
            CompletableFuture<KadMessage> f;
            try {
                f = query.apply(c.peer);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete((resp, err) -> onAnswer(c, resp, err));
        }
    }

    private void onAnswer(Candidate c, KadMessage resp, Throwable err) {
        boolean stop = false;
        if (err != null) {
            listener.onFailure(c.peer, err);
        } else {
            try {
                stop = listener.onResponse(c.peer, resp);
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
                stop = true;
            }
        }
        List<KadPeer> finished = null;
        synchronized (this) {
            inFlight--;
            if (err != null) {
                c.state = State.FAILED;
            } else {
                c.state = State.QUERIED;
                queried++;
                // A response names at most k peers per the spec; more would only let one peer
                // flood the candidate set.
                List<KadPeer> closer = resp.closerPeers();
                closer.subList(0, Math.min(k, closer.size())).forEach(this::addCandidate);
            }
            if (stop && !done) {
                done = true;
                finished = closestQueried();
            }
        }
        if (finished != null) {
            result.complete(finished);
        } else {
            step();
        }
    }

    private List<KadPeer> closestQueried() {
        List<KadPeer> out = new ArrayList<>();
        for (Candidate c : candidates.values()) {
            if (c.state == State.QUERIED) {
                out.add(c.peer);
                if (out.size() == k) {
                    break;
                }
            }
        }
        return out;
    }
}
