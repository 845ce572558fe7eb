package io.layerswarm.node;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.oci.Digest;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Which pieces of one blob this node may ask the registry for while other nodes fetch the same blob:
 * the registry pieces are split among the known fetchers by rendezvous hashing (each piece goes to
 * the fetcher whose hash of peer id, blob and piece is highest, so fetchers that disagree about one
 * member disagree about few pieces).
 *
 * <p>A fetcher that joins changes the split, and a node that started before hearing of it may already
 * have taken pieces that are now assigned to the newcomer. So a piece some known fetcher announced as
 * asked of the registry, or as verified (its hash travels in announcements of its own and may not have
 * arrived yet), is not asked of the registry here while that fetcher is connected and not banned,
 * until {@code stall} has passed since we heard of it. Two nodes that know each other therefore never both
 * start a registry request for one piece: whichever requested it first either did so knowing the other
 * (then both agree whose it is) or announced it in its answer to the other's claim.
 *
 * <p>Owned by the swarm loop; times are {@link System#nanoTime()} values passed in, so the decisions
 * can be tested with any clock.
 */
final class RegistrySplit {
    private final PeerId self;
    private final long selfKey;
    private final long blobKey;
    private final long stallNanos;
    private final Predicate<PeerId> banned;
    private final Map<PeerId, Fetcher> fetchers = new HashMap<>();

    /** What is known of one other fetcher. */
    private static final class Fetcher {
        final long key;
        /** When it last announced a newly verified piece (or became known). */
        long lastProgress;
        /** Pieces it asked the registry for or verified: piece to the time we stop leaving it to them. */
        final Map<Integer, Long> taken = new HashMap<>();

        Fetcher(long key, long now) {
            this.key = key;
            this.lastProgress = now;
        }
    }

    /**
     * @param self this node
     * @param blob the blob
     * @param stallNanos how long a piece stays left to another fetcher that took it, and how long an
     *     assignee may announce nothing new before its pieces may come from the registry here
     * @param banned fetchers this node no longer takes pieces from (they failed or lied): what they
     *     took is not left to them
     */
    RegistrySplit(PeerId self, Digest blob, long stallNanos, Predicate<PeerId> banned) {
        this.self = Objects.requireNonNull(self, "self");
        this.selfKey = peerKey(self);
        this.blobKey = Long.parseUnsignedLong(blob.hex().substring(0, 16), 16);
        this.stallNanos = stallNanos;
        this.banned = Objects.requireNonNull(banned, "banned");
    }

    /** {@code peer} fetches the blob too (its claim or an announce of it). */
    void fetcherSeen(PeerId peer, long now) {
        fetcher(peer, now);
    }

    /** {@code peer} announced {@code piece} newly verified: progress, and the piece is taken. */
    void verifiedElsewhere(PeerId peer, int piece, long now) {
        Fetcher f = fetcher(peer, now);
        f.lastProgress = now;
        f.taken.putIfAbsent(piece, now + stallNanos);
    }

    /** {@code peer} announced it asked the registry for {@code piece}. */
    void requestedElsewhere(PeerId peer, int piece, long now) {
        fetcher(peer, now).taken.putIfAbsent(piece, now + stallNanos);
    }

    /** {@code peer} left (disconnected): pieces it took are no longer left to it. */
    void left(PeerId peer) {
        fetchers.remove(peer);
    }

    /** Fetchers known besides this node. */
    int otherFetchers() {
        return fetchers.size();
    }

    /**
     * Whether this node may ask the registry for {@code piece} now, as far as the other fetchers go:
     * no known fetcher took it (within {@code stall}), and it is assigned to this node, or its assignee
     * has announced no newly verified piece for {@code stall}. Judged per assignee, so a merely slow
     * swarm (every node waiting on the uplink) does not send everyone to the registry.
     */
    boolean mayFetch(int piece, long now) {
        if (takenElsewhere(piece, now)) {
            return false;
        }
        PeerId who = assignee(piece);
        return who.equals(self) || now - fetchers.get(who).lastProgress >= stallNanos;
    }

    /** Whether the registry request for {@code piece} is this node's share (not taken over from a quiet one). */
    boolean assignedToMe(int piece) {
        return assignee(piece).equals(self);
    }

    /**
     * Whether this node wins {@code piece} among itself and {@code peers}, whether or not they fetch:
     * then it wins it among any of them that do, so it may ask the registry before it knows which.
     */
    boolean assignedToMeAmong(java.util.Collection<PeerId> peers, int piece) {
        long mine = score(selfKey, piece);
        for (PeerId p : peers) {
            long sc = score(peerKey(p), piece);
            if (Long.compareUnsigned(sc, mine) > 0 || sc == mine && p.compareTo(self) > 0) {
                return false;
            }
        }
        return true;
    }

    private boolean takenElsewhere(int piece, long now) {
        boolean taken = false;
        for (Map.Entry<PeerId, Fetcher> e : fetchers.entrySet()) {
            Fetcher f = e.getValue();
            Long until = f.taken.get(piece);
            if (until == null || banned.test(e.getKey())) {
                continue;
            }
            if (now - until >= 0) {
                f.taken.remove(piece);
            } else {
                taken = true;
            }
        }
        return taken;
    }

    /** Rendezvous hashing: the piece goes to the known fetcher (this node included) with the highest score. */
    PeerId assignee(int piece) {
        PeerId best = self;
        long bestScore = score(selfKey, piece);
        for (Map.Entry<PeerId, Fetcher> e : fetchers.entrySet()) {
            long sc = score(e.getValue().key, piece);
            if (Long.compareUnsigned(sc, bestScore) > 0
                    || sc == bestScore && e.getKey().compareTo(best) > 0) {
                best = e.getKey();
                bestScore = sc;
            }
        }
        return best;
    }

    private Fetcher fetcher(PeerId peer, long now) {
        return fetchers.computeIfAbsent(peer, p -> new Fetcher(peerKey(p), now));
    }

    private long score(long peerKey, int piece) {
        return mix(peerKey ^ mix(blobKey + piece * 0x9E3779B97F4A7C15L));
    }

    /** FNV-1a over the peer id's bytes. */
    private static long peerKey(PeerId p) {
        long h = 0xcbf29ce484222325L;
        for (byte b : p.bytes()) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return h;
    }

    /** The splitmix64 finalizer: spreads every input bit over the whole word. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
