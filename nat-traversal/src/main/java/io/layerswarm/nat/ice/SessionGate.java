package io.layerswarm.nat.ice;

import io.layerswarm.libp2p.crypto.PeerId;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Bounds ICE sessions, so a peer cannot make this node run checks (and send them) at will: at most
 * {@code maxSessions} at once, one per peer at a time, and a new one with the same peer only
 * {@code minIntervalNanos} after the last one started.
 */
final class SessionGate {
    /** Peers remembered for the interval; beyond this the map is cleared of expired entries. */
    private static final int MAX_REMEMBERED = 1024;

    private final int maxSessions;
    private final long minIntervalNanos;
    private final Map<PeerId, Long> lastStart = new ConcurrentHashMap<>();
    private final Map<PeerId, Boolean> running = new ConcurrentHashMap<>();

    SessionGate(int maxSessions, long minIntervalNanos) {
        this.maxSessions = maxSessions;
        this.minIntervalNanos = minIntervalNanos;
    }

    /**
     * Admits a session with {@code peer}.
     *
     * @return null if admitted (call {@link #done} at its end), else why not
     */
    synchronized String admit(PeerId peer, long nowNanos) {
        if (running.size() >= maxSessions) {
            return "busy: " + maxSessions + " ICE sessions running";
        }
        if (running.containsKey(peer)) {
            return "an ICE session with this peer is running";
        }
        Long last = lastStart.get(peer);
        if (last != null && nowNanos - last < minIntervalNanos) {
            return "ICE sessions with one peer at most every " + minIntervalNanos / 1_000_000 + " ms";
        }
        if (lastStart.size() >= MAX_REMEMBERED) {
            lastStart.values().removeIf(t -> nowNanos - t >= minIntervalNanos);
        }
        lastStart.put(peer, nowNanos);
        running.put(peer, Boolean.TRUE);
        return null;
    }

    /** Ends an admitted session. */
    synchronized void done(PeerId peer) {
        running.remove(peer);
    }
}
