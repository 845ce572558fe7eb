package io.layerswarm.nat.punch;

import io.layerswarm.libp2p.crypto.PeerId;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Bounds hole-punching sessions (ICE, DCUtR), so a peer cannot make this node send probes or dials at will: at
 * most {@code maxSessions} at once, one per peer at a time, and a new one with the same peer only
 * {@code minIntervalNanos} after the last one started.
 */
public final class SessionGate {
    /** Peers remembered for the interval; beyond this the map is cleared of expired entries. */
    private static final int MAX_REMEMBERED = 1024;

    private final String kind;
    private final int maxSessions;
    private final long minIntervalNanos;
    private final Map<PeerId, Long> lastStart = new ConcurrentHashMap<>();
    private final Map<PeerId, Boolean> running = new ConcurrentHashMap<>();

    /**
     * @param kind the sessions' name in refusals ("ICE", "DCUtR")
     * @param maxSessions most sessions at once
     * @param minIntervalNanos least time between the starts of two sessions with one peer
     */
    public SessionGate(String kind, int maxSessions, long minIntervalNanos) {
        this.kind = kind;
        this.maxSessions = maxSessions;
        this.minIntervalNanos = minIntervalNanos;
    }

    /**
     * Admits a session with {@code peer}.
     *
     * @return null if admitted (call {@link #done} at its end), else why not
     */
    public synchronized String admit(PeerId peer, long nowNanos) {
        if (running.size() >= maxSessions) {
            return "busy: " + maxSessions + " " + kind + " sessions running";
        }
        if (running.containsKey(peer)) {
            return "an " + kind + " session with this peer is running";
        }
        Long last = lastStart.get(peer);
        if (last != null && nowNanos - last < minIntervalNanos) {
            return kind + " sessions with one peer at most every " + minIntervalNanos / 1_000_000 + " ms";
        }
        if (lastStart.size() >= MAX_REMEMBERED) {
            lastStart.values().removeIf(t -> nowNanos - t >= minIntervalNanos);
        }
        lastStart.put(peer, nowNanos);
        running.put(peer, Boolean.TRUE);
        return null;
    }

    /** Whether a session with {@code peer} is running. */
    public boolean isRunning(PeerId peer) {
        return running.containsKey(peer);
    }

    /** Ends an admitted session. */
    public synchronized void done(PeerId peer) {
        running.remove(peer);
    }
}
