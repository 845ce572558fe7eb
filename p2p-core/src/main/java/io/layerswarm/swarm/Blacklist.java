package io.layerswarm.swarm;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Sources that failed or lied, banned until a deadline. Owned by the swarm loop, so unsynchronised.
 */
public final class Blacklist {
    private final Map<String, Long> until = new HashMap<>();
    private final LongSupplier nanoClock;

    /** @param nanoClock monotonic clock in nanoseconds (System::nanoTime outside tests) */
    public Blacklist(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** Bans {@code id} for {@code nanos}, extending an existing ban if longer. */
    public void ban(String id, long nanos) {
        long deadline = nanoClock.getAsLong() + nanos;
        until.merge(id, deadline, Math::max);
    }

    /** Whether {@code id} is banned now. */
    public boolean isBanned(String id) {
        Long d = until.get(id);
        if (d == null) {
            return false;
        }
        if (d - nanoClock.getAsLong() <= 0) {
            until.remove(id);
            return false;
        }
        return true;
    }

    /** Number of current bans (expired ones are dropped). */
    public int size() {
        until.values().removeIf(d -> d - nanoClock.getAsLong() <= 0);
        return until.size();
    }
}
