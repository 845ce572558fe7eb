package io.layerswarm.cache.policy;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A byte-bounded layer cache policy as a pure data structure: it decides, it never touches disk.
 * The same instances run inside the trace simulator and inside {@code LayerCache}, which deletes the
 * blobs a policy names (policy separate from mechanism, as in Caffeine).
 *
 * <p>Every mutating call returns the keys that must leave the cache now, in eviction order. A pinned
 * key is never returned; when only pinned keys could make room the cache stays over capacity and
 * the eviction is deferred to the {@link #unpin} that makes a key evictable. Instances are not
 * thread-safe: one owner drives each policy.
 */
public interface CachePolicy {

    /** Policy name as used on the command line, e.g. {@code arc}. */
    String name();

    /** Capacity in bytes. */
    long capacity();

    /** Bytes of all resident layers (may exceed the capacity only while pinned layers block eviction). */
    long weightedSize();

    /** Whether {@code key} is resident. Does not count as an access. */
    boolean contains(String key);

    /** The resident keys. */
    Set<String> residentKeys();

    /**
     * Serves a request: every layer of it is accessed and becomes resident (a hit refreshes it, a
     * miss admits it); the layers of the request are in use while it is served.
     *
     * @return keys to evict, possibly including layers of this request that do not fit
     */
    List<String> request(ImageRequest request);

    /** Changes the capacity at run time; returns the keys to evict to fit. */
    List<String> setCapacity(long bytes);

    /** Marks {@code key} in use (counted); it will not be evicted until as many unpins. */
    void pin(String key);

    /** Releases one pin; returns evictions that were deferred because of it. */
    List<String> unpin(String key);

    /** Whether {@code key} is pinned. */
    boolean isPinned(String key);

    /**
     * Forgets a resident key that disappeared outside the policy (deleted by hand, corrupt blob);
     * a no-op for keys that are not resident, such as those the policy itself just evicted.
     */
    void remove(String key);

    /** The policy's history for persistence. */
    PolicyState exportState();

    /**
     * Rebuilds the policy after a restart. The resident set is exactly {@code onDisk} (key to size):
     * remembered order is kept for keys still on disk, keys the state does not know are admitted as
     * most recent, nothing on disk is dropped except to fit the capacity.
     *
     * @param state the persisted history, or {@code null} when there is none
     * @param onDisk the blobs present in the store
     * @return keys to evict to fit the capacity
     */
    List<String> restore(PolicyState state, Map<String, Long> onDisk);
}
